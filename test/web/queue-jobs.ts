import { Worker, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../support/redis.js';

/** Jobs put into real BullMQ queues in a known state, for the pages that count and act on them. */

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A worker on `queue` running `process`, on a connection of its own (BullMQ's blocking one needs it). */
export function startTestWorker(queue: Queue, process: (job: Job) => Promise<unknown>, concurrency = 1): { worker: Worker; close(force?: boolean): Promise<void> } {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(queue.name, process, { connection, prefix: queue.opts.prefix, concurrency });
  return {
    worker,
    /** Forced: without waiting for a job under way (one the test holds would never end). */
    close: async (force = true) => {
      await worker.close(force);
      connection.disconnect();
    },
  };
}

/** Adds jobs and has a worker fail each once, for good (one attempt): they end in `failed`. */
export async function failedJobs(queue: Queue, jobs: ReadonlyArray<{ jobId: string; data: object }>): Promise<void> {
  const before = await queue.getJobCountByTypes('failed');
  for (const { jobId, data } of jobs) await queue.add(queue.name, data, { jobId, attempts: 1 });
  const { close } = startTestWorker(queue, async () => {
    throw new Error('failed on purpose by the test');
  });
  try {
    await until(`${jobs.length} failed job(s) in ${queue.name}`, async () => (await queue.getJobCountByTypes('failed')) >= before + jobs.length);
  } finally {
    await close();
  }
}

/** Adds jobs and has a worker complete each: they end in `completed`. */
export async function completedJobs(queue: Queue, jobs: ReadonlyArray<{ jobId: string; data: object }>): Promise<void> {
  const before = await queue.getJobCountByTypes('completed');
  for (const { jobId, data } of jobs) await queue.add(queue.name, data, { jobId });
  const { close } = startTestWorker(queue, async () => ({ rows: 1 }));
  try {
    await until(`${jobs.length} completed job(s) in ${queue.name}`, async () => (await queue.getJobCountByTypes('completed')) >= before + jobs.length);
  } finally {
    await close();
  }
}

/**
 * A worker that takes one job and holds it (active) until released: the queue then has a worker
 * connected and a job active while the test looks.
 */
export async function heldWorker(queue: Queue): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const running = startTestWorker(queue, () => held);
  await until(`an active job in ${queue.name}`, async () => (await queue.getJobCountByTypes('active')) === 1);
  return {
    release: async () => {
      release();
      // Waits for the held job to complete, so nothing of it is written after the test's keys are gone.
      await running.close(false);
    },
  };
}
