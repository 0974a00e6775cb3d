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

/** The job options that place a batch's ingest, trace and assemble jobs in its priority class. */
export function priorityJobOptions(options: Pick<BatchOptions, 'priority'>): JobsOptions {
  return options.priority === 'bulk' ? { priority: BULK_JOB_PRIORITY } : {};
}
