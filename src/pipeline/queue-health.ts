import type { Queue } from 'bullmq';

/**
 * How one BullMQ queue stands, as `pds-trace doctor` and the web's queues view report it: jobs by
 * state, whether it is paused, and how many workers are connected to it. Counts and flags only:
 * nothing of any job's data.
 */

export const QUEUE_JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused'] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

export interface QueueHealth {
  name: string;
  paused: boolean;
  /** Workers connected to the queue (BullMQ's `getWorkers`: Redis clients named for it). */
  workers: number;
  /**
   * `waiting` includes BullMQ's `prioritized` (our jobs carry priorities: src/pipeline/priority.ts),
   * which waits just the same. BullMQ keeps a paused queue's jobs in its wait list (it has no
   * `paused` state to count any more); so that `paused` says what a pause holds back, the waiting
   * jobs of a paused queue are counted there, not under `waiting`.
   */
  counts: Record<QueueJobState, number>;
}

export async function queueHealth(queue: Queue): Promise<QueueHealth> {
  const [counts, paused, workers] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
    queue.getWorkersCount(),
  ]);
  const queued = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  return {
    name: queue.name,
    paused,
    workers,
    counts: {
      waiting: paused ? 0 : queued,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
      paused: paused ? queued : 0,
    },
  };
}
