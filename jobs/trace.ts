import type { Job } from 'bullmq';
import { loadBatch } from '../src/pipeline/batch.js';
import { queueAssemblyIfDone, type TraceJobData } from '../src/pipeline/queues.js';
import { traceChunk } from '../src/pipeline/trace-chunk.js';
import type { JobContext } from './context.js';

/** Trace one chunk (skipped if its results exist); the last chunk to finish queues the assembly. */
export function traceProcessor(ctx: JobContext) {
  return async (job: Job<TraceJobData>, _token?: string, signal?: AbortSignal) => {
    const meta = await loadBatch(ctx.dataDir, job.data.batchId);
    const outcome = await traceChunk(ctx.dataDir, meta, job.data.chunk, ctx.caller, { signal, audit: ctx.audit });
    await queueAssemblyIfDone(ctx.queues, ctx.dataDir, meta);
    return { outcome };
  };
}
