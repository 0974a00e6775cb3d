import { DelayedError, type Job, type Processor, type Worker } from 'bullmq';

/**
 * Stopping this process's BullMQ workers whether Redis answers or not.
 *
 * BullMQ's own graceful close waits for the worker's fetch loop, and that loop waits on Redis: with
 * Redis away it never ends. A forced close asked for once a graceful one has begun returns that same
 * close (bullmq Worker.close), so a deadline cannot rescue it. A `worker` or `watch` told to stop
 * during an outage therefore hung until it was killed. So the graceful part is done here, asking
 * nothing of Redis: the workers stop taking jobs (a pause that does not wait), the jobs already in
 * hand get until the deadline to be recorded as completed or failed (the workers' own events), those
 * still running are then aborted (their chunks are traced again later, never half-written), and the
 * workers are closed with force, which only drops their connections.
 */

/** After aborting the jobs still running: how long they get to record their failure. */
const ABORT_GRACE_MS = 5_000;

export interface StoppableWorkers {
  /** Stops taking jobs, waits up to `timeoutMs` for those in hand, aborts the rest, and closes. */
  close(timeoutMs: number): Promise<void>;
}

/** Workers whose processors never hand a job back to the queue themselves. */
export function stoppable(workers: readonly Worker[]): StoppableWorkers {
  const shutdown = new WorkerShutdown();
  for (const worker of workers) shutdown.follow(worker);
  return { close: (timeoutMs) => shutdown.close(workers, timeoutMs) };
}

/**
 * The jobs this process has taken and BullMQ has not yet recorded as completed or failed, and the
 * stop built on them. A job a processor moves back to the queue itself (moveToDelayed, then
 * DelayedError) gets no such event: the processor's wrapper (`processor`) lets it go instead.
 */
export class WorkerShutdown {
  readonly #jobs = new Set<string>();
  #settled: Array<() => void> = [];

  follow(worker: Worker): void {
    worker.on('active', (job) => this.#jobs.add(jobKey(worker.name, job)));
    worker.on('completed', (job) => this.#end(jobKey(worker.name, job)));
    worker.on('failed', (job) => {
      if (job) this.#end(jobKey(worker.name, job));
    });
  }

  processor<T, R>(queue: string, run: Processor<T, R>): Processor<T, R> {
    return async (job, token, signal) => {
      try {
        return await run(job, token, signal);
      } catch (err) {
        if (err instanceof DelayedError) this.#end(jobKey(queue, job));
        throw err;
      }
    };
  }

  async close(workers: readonly Worker[], timeoutMs: number): Promise<void> {
    await Promise.all(workers.map((worker) => worker.pause(true)));
    if (!(await this.#settledWithin(timeoutMs))) {
      for (const worker of workers) worker.cancelAllJobs('shutdown');
      await this.#settledWithin(ABORT_GRACE_MS);
    }
    await Promise.all(workers.map((worker) => worker.close(true)));
  }

  /** Whether every job in hand was recorded within `ms`. */
  async #settledWithin(ms: number): Promise<boolean> {
    if (this.#jobs.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const settled = new Promise<true>((resolve) => this.#settled.push(() => resolve(true)));
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([settled, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #end(key: string): void {
    this.#jobs.delete(key);
    if (this.#jobs.size > 0) return;
    const waiting = this.#settled;
    this.#settled = [];
    for (const resolve of waiting) resolve();
  }
}

function jobKey(queue: string, job: Job): string {
  return `${queue}:${job.id ?? ''}`;
}
