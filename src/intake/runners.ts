import type { BatchMeta } from '../pipeline/batch.js';
import { BatchProgress } from '../pipeline/progress.js';
import { enqueueRemaining, submitBatch, type PipelineQueues } from '../pipeline/queues.js';
import { runBatchEmbedded, type EmbeddedRunOptions } from '../pipeline/run-embedded.js';
import { BatchWatcher } from '../pipeline/watch-batch.js';

/**
 * The two runners a submitted batch goes to (ARCHITECTURE "Two runners, one pipeline"): the BullMQ
 * queues when REDIS_URL is set, where any worker of the deployment traces it, or this process
 * without Redis. Either way the way in gets the same handle: progress to show and the finished
 * batch to wait for.
 */

export interface RunningBatch {
  progress: BatchProgress;
  /** The batch once assembled or rejected. */
  finished: Promise<BatchMeta>;
}

export interface BatchRunner {
  readonly kind: 'bullmq' | 'embedded';
  /** Hands a created batch over; `signal` stops waiting (queues) or tracing (embedded). */
  start(batch: BatchMeta, signal?: AbortSignal): Promise<RunningBatch>;
  /**
   * Takes up a batch submitted earlier whose process went away (a watcher restarted): queues the
   * jobs it still needs (idempotent: job ids are fixed), or traces what is left here.
   */
  resume(batch: BatchMeta, signal?: AbortSignal): Promise<RunningBatch>;
}

/** The runner choice of every way in: the queues with REDIS_URL, unless this run asks for its own process. */
export function usesQueues(redisUrl: string | undefined, options: { embedded?: boolean } = {}): boolean {
  return Boolean(redisUrl) && !options.embedded;
}

/**
 * Submits to the queues (in the batch's priority class) and follows the batch from its folder,
 * as any process sharing the data folder can.
 */
export function queueRunner(dataDir: string, queues: PipelineQueues): BatchRunner {
  return {
    kind: 'bullmq',
    async start(batch, signal) {
      await submitBatch(queues, batch);
      const watcher = new BatchWatcher(dataDir, batch.id, queues.live);
      return handle(watcher.progress, watcher.waitUntilFinished({ signal }));
    },
    async resume(batch, signal) {
      if (batch.state === 'created') await submitBatch(queues, batch);
      else await enqueueRemaining(queues, dataDir, batch);
      const watcher = new BatchWatcher(dataDir, batch.id, queues.live);
      return handle(watcher.progress, watcher.waitUntilFinished({ signal }));
    },
  };
}

/** Traces the batch in this process: ingest, trace and assemble, under the caller's SMSP limit. */
export function embeddedRunner(dataDir: string, options: Omit<EmbeddedRunOptions, 'progress' | 'signal'>): BatchRunner {
  const run = async (batch: BatchMeta, signal?: AbortSignal) => {
    const progress = new BatchProgress();
    return handle(progress, runBatchEmbedded(dataDir, batch, { ...options, progress, signal }).then((result) => result.meta));
  };
  // The embedded run starts from any state: ingest only if not yet done, traced chunks skipped.
  return { kind: 'embedded', start: run, resume: run };
}

function handle(progress: BatchProgress, finished: Promise<BatchMeta>): RunningBatch {
  // A failure before the way in awaits `finished` is theirs to see there, not an unhandled rejection.
  finished.catch(() => undefined);
  return { progress, finished };
}
