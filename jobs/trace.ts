import { DelayedError, type Job } from 'bullmq';
import { loadBatch } from '../src/pipeline/batch.js';
import { BatchCancelledError } from '../src/pipeline/cancel.js';
import { priorityClassOfJob, type PriorityClass } from '../src/pipeline/priority.js';
import { describeProvider, providerRefusal } from '../src/pipeline/provider.js';
import { clearProviderHold, recordProviderHold } from '../src/pipeline/provider-hold.js';
import { queueAssemblyIfDone, type TraceJobData } from '../src/pipeline/queues.js';
import { traceChunk } from '../src/pipeline/trace-chunk.js';
import type { TraceSlots } from './trace-slots.js';
import type { JobContext } from './context.js';

/**
 * Trace one chunk (skipped if its results exist); the last chunk to finish queues the assembly.
 * A batch for another provider is not traced here: the job waits in the delayed set for a worker on
 * the right one, using none of its attempts (`moveToDelayed` skips the attempt count; DelayedError
 * tells the worker the job was moved, not failed), and the batch folder says why.
 *
 * Rows are counted in Redis as they are traced (live-progress.ts), so followers see the chunk move.
 * A cancelled batch ends the job as done, tracing nothing more: there is nothing to retry.
 * With `classes`, a bulk chunk traces only in one of the worker's bulk slots (trace-slots.ts), and
 * gives its BullMQ slot back to an interactive job waiting for one.
 */
export function traceProcessor(ctx: JobContext, classes?: { slots: TraceSlots; stopping: () => boolean }) {
  // Batches this process has logged a refusal for: their chunks are refused side by side, and the
  // hold file alone cannot tell two of them apart. One entry per held batch, which is rare.
  const announced = new Set<string>();
  return async (job: Job<TraceJobData>, token?: string, signal?: AbortSignal) => {
    // Counted before the first await, so the worker's next fetch already knows (trace-slots.ts).
    const priority = priorityClassOfJob(job.opts);
    classes?.slots.enter(priority);
    try {
      return await traceJob(job, token, signal, priority);
    } finally {
      classes?.slots.leave(priority);
    }
  };

  async function traceJob(job: Job<TraceJobData>, token: string | undefined, signal: AbortSignal | undefined, priority: PriorityClass) {
    const meta = await loadBatch(ctx.dataDir, job.data.batchId);
    if (meta.state === 'cancelled') return { outcome: 'cancelled' };
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
    const bulk = classes && priority === 'bulk' ? classes.slots : undefined;
    // Interactive jobs wait in BullMQ's wait list, bulk ones among the prioritised.
    if (bulk && !(await bulk.takeBulk(async () => classes!.stopping() || (await ctx.queues.trace.getWaitingCount()) > 0))) {
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    const live = await ctx.queues.live.startChunk(meta.id, job.data.chunk).catch((err: unknown) => {
      bulk?.releaseBulk();
      throw err;
    });
    try {
      const outcome = await traceChunk(ctx.dataDir, meta, job.data.chunk, ctx.caller, { signal, audit: ctx.audit, onRow: (row) => live.record(row.status) });
      // Read again: a batch cancelled while this chunk was traced is not assembled.
      await queueAssemblyIfDone(ctx.queues, ctx.dataDir, await loadBatch(ctx.dataDir, meta.id));
      return { outcome };
    } catch (err) {
      if (err instanceof BatchCancelledError) return { outcome: 'cancelled' };
      throw err;
    } finally {
      bulk?.releaseBulk();
      await live.end();
    }
  }
}
