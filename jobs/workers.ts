import { Worker, type ConnectionOptions } from 'bullmq';
import { QUEUE_NAMES } from '../src/pipeline/queues.js';
import { isRedisConnectionError } from '../src/pipeline/redis-connection-errors.js';
import { assembleProcessor } from './assemble.js';
import { TraceSlots } from './trace-slots.js';
import { WorkerShutdown } from './worker-shutdown.js';
import type { JobContext } from './context.js';
import { ingestProcessor } from './ingest.js';
import { traceProcessor } from './trace.js';

export interface WorkerSettings {
  connection: ConnectionOptions;
  prefix: string;
  /** Trace jobs (chunks) this process runs at once; while bulk ones run, one interactive chunk more (trace-slots.ts). */
  traceConcurrency: number;
  /** Lock and stall timings; the defaults suit production, tests shorten them. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export interface PipelineWorkers {
  workers: Worker[];
  /** Stops taking jobs and waits for running ones up to `timeoutMs`, then aborts them. */
  close(timeoutMs?: number): Promise<void>;
}

/** One worker per queue in this process: ingest, trace and assemble. */
export function startWorkers(ctx: JobContext, settings: WorkerSettings): PipelineWorkers {
  const common = {
    connection: settings.connection,
    prefix: settings.prefix,
    lockDuration: settings.lockDurationMs ?? 60_000,
    stalledInterval: settings.stalledIntervalMs ?? 30_000,
    // A chunk re-run after a crash repeats no work, so let stalled jobs be retried generously.
    maxStalledCount: 10,
  };
  let stopping = false;
  // While bulk chunks run here, one trace job more: the slot an interactive chunk gets at once.
  const slots = new TraceSlots(settings.traceConcurrency, (open) => {
    trace.concurrency = settings.traceConcurrency + (open ? 1 : 0);
  });
  const shutdown = new WorkerShutdown();
  const trace: Worker = new Worker(QUEUE_NAMES.trace, shutdown.processor(QUEUE_NAMES.trace, traceProcessor(ctx, { slots, stopping: () => stopping })), {
    ...common,
    concurrency: settings.traceConcurrency,
  });
  const workers = [
    new Worker(QUEUE_NAMES.ingest, shutdown.processor(QUEUE_NAMES.ingest, ingestProcessor(ctx)), { ...common, concurrency: 1 }),
    trace,
    new Worker(QUEUE_NAMES.assemble, shutdown.processor(QUEUE_NAMES.assemble, assembleProcessor(ctx)), { ...common, concurrency: 1 }),
  ];
  for (const worker of workers) {
    shutdown.follow(worker);
    worker.on('error', (err) => {
      // An outage is said once by the process that owns the connection, not here per reconnect.
      if (!isRedisConnectionError(err)) ctx.logger.error('worker error', { queue: worker.name, error: err });
    });
    worker.on('failed', (job, err) => ctx.logger.warn('job failed', { queue: worker.name, jobId: job?.id, attempts: job?.attemptsMade, error: err.message }));
  }
  return {
    workers,
    async close(timeoutMs = 30_000) {
      // A bulk job waiting for a slot goes back to the queue rather than start a chunk now.
      stopping = true;
      await shutdown.close(workers, timeoutMs);
    },
  };
}
