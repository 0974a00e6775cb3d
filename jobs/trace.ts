import { DelayedError, type Job } from 'bullmq';
import { loadBatch } from '../src/pipeline/batch.js';
import { describeProvider, providerRefusal } from '../src/pipeline/provider.js';
import { clearProviderHold, recordProviderHold } from '../src/pipeline/provider-hold.js';
import { queueAssemblyIfDone, type TraceJobData } from '../src/pipeline/queues.js';
import { traceChunk } from '../src/pipeline/trace-chunk.js';
import type { JobContext } from './context.js';

/**
 * Trace one chunk (skipped if its results exist); the last chunk to finish queues the assembly.
 * A batch for another provider is not traced here: the job waits in the delayed set for a worker on
 * the right one, using none of its attempts (`moveToDelayed` skips the attempt count; DelayedError
 * tells the worker the job was moved, not failed), and the batch folder says why.
 */
export function traceProcessor(ctx: JobContext) {
  // Batches this process has logged a refusal for: their chunks are refused side by side, and the
  // hold file alone cannot tell two of them apart. One entry per held batch, which is rare.
  const announced = new Set<string>();
  return async (job: Job<TraceJobData>, token?: string, signal?: AbortSignal) => {
    const meta = await loadBatch(ctx.dataDir, job.data.batchId);
    const refusal = providerRefusal(meta, ctx.provider);
    if (refusal) {
      const recorded = await recordProviderHold(ctx.dataDir, refusal);
      if (recorded && !announced.has(meta.id)) {
        announced.add(meta.id);
        ctx.logger.warn('batch held: it is for another SMSP provider', { batchId: meta.id, batchProvider: describeProvider(meta.provider), workerProvider: describeProvider(ctx.provider), reason: refusal.message });
      }
      await job.moveToDelayed(Date.now() + ctx.providerHoldMs, token);
      throw new DelayedError();
    }
    await clearProviderHold(ctx.dataDir, meta.id);
    const outcome = await traceChunk(ctx.dataDir, meta, job.data.chunk, ctx.caller, { signal, audit: ctx.audit });
    await queueAssemblyIfDone(ctx.queues, ctx.dataDir, meta);
    return { outcome };
  };
}
