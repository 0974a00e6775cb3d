import { AsyncLocalStorage } from 'node:async_hooks';
import type { JobsOptions } from 'bullmq';
import type { BatchOptions } from './batch.js';

/**
 * Priority classes of batches (ARCHITECTURE property 10): `interactive` batches, for which a person
 * waits (CLI `trace`, web uploads), go ahead of `bulk` ones (watched folders, schedules), so an
 * analyst's 200-row cohort is not stuck behind a million-row nightly batch.
 */
export const PRIORITY_CLASSES = ['interactive', 'bulk'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

/** How a file came in: recorded with its batch (status, metrics) and deciding its priority class. */
export const WAYS_IN = ['cli', 'web', 'watch', 'schedule'] as const;
export type WayIn = (typeof WAYS_IN)[number];

export const PRIORITY_OF: Readonly<Record<WayIn, PriorityClass>> = { cli: 'interactive', web: 'interactive', watch: 'bulk', schedule: 'bulk' };

/**
 * BullMQ priority of a bulk batch's jobs. BullMQ workers take jobs without a priority (its wait
 * list) before any prioritised job (moveToActive takes the wait list first), so interactive jobs
 * carry none and bulk jobs this one: an interactive chunk is the next job any free worker takes,
 * while chunks already running finish. Bulk is slowed, never starved or lost: its jobs wait in
 * Redis in order and are taken whenever no interactive job waits, and interactive batches are
 * finite. Jobs of batches made before priorities existed carry none, as before.
 */
const BULK_JOB_PRIORITY = 10;

/** The class of a job, from the options `priorityJobOptions` gave it (a worker knows it before loading the batch). */
export function priorityClassOfJob(options: Pick<JobsOptions, 'priority'>): PriorityClass {
  return (options.priority ?? 0) > 0 ? 'bulk' : 'interactive';
}

/** The job options that place a batch's ingest, trace and assemble jobs in its priority class. */
export function priorityJobOptions(options: Pick<BatchOptions, 'priority'>): JobsOptions {
  return options.priority === 'bulk' ? { priority: BULK_JOB_PRIORITY } : {};
}

/**
 * The class of the batch a row being traced belongs to, for the gates its SMSP requests pass (the
 * row limit, the SMSP limiter): set around a chunk's rows (trace-chunk.ts) and read where a request
 * waits, so the SMSP client, which knows nothing of batches, need not carry it. BullMQ ordering
 * alone puts an interactive chunk next in line for a worker; without this its rows then queued
 * behind the rows of the bulk chunks already running, hundreds of them, in each worker.
 */
const requestClass = new AsyncLocalStorage<PriorityClass>();

export function withRequestPriority<T>(priority: PriorityClass, fn: () => T): T {
  // On Node 20 the first AsyncLocalStorage.run turns on promise hooks for the whole process, a cost
  // on every promise after it. Interactive is what a request is without a store, so an interactive
  // batch outside any bulk one needs none (the CLI's trace, a web upload traced in serve).
  if (priority === 'interactive' && requestClass.getStore() === undefined) return fn();
  return requestClass.run(priority, fn);
}

/** The priority class of the request being made now; outside any batch (doctor's probe), interactive. */
export function requestPriority(): PriorityClass {
  return requestClass.getStore() ?? 'interactive';
}

/** Waiters in two lines, interactive first; first come, first served within each. */
export class PriorityLine<T> {
  readonly #lines: Record<PriorityClass, T[]> = { interactive: [], bulk: [] };

  push(item: T, priority: PriorityClass = requestPriority()): void {
    this.#lines[priority].push(item);
  }

  shift(): T | undefined {
    return this.#lines.interactive.shift() ?? this.#lines.bulk.shift();
  }

  /** Removes `item` wherever it waits; false when it was not waiting. */
  remove(item: T): boolean {
    for (const line of Object.values(this.#lines)) {
      const i = line.indexOf(item);
      if (i >= 0) {
        line.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  get length(): number {
    return this.#lines.interactive.length + this.#lines.bulk.length;
  }

  /** Whether an interactive item waits. */
  get urgent(): boolean {
    return this.#lines.interactive.length > 0;
  }

  /** Every waiting item, interactive first. */
  items(): T[] {
    return [...this.#lines.interactive, ...this.#lines.bulk];
  }
}
