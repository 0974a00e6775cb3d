import type { Job } from 'bullmq';
import { loadBatch } from '../src/pipeline/batch.js';
import { ingestBatch } from '../src/pipeline/ingest.js';
import { enqueueRemaining, type IngestJobData } from '../src/pipeline/queues.js';
import type { JobContext } from './context.js';

/**
 * Ingest a submitted file, then queue its chunks. A re-run after a crash repeats only what is
 * missing; a cancelled batch is left alone.
 */
export function ingestProcessor(ctx: JobContext) {
  return async (job: Job<IngestJobData>) => {
    const stored = await loadBatch(ctx.dataDir, job.data.batchId);
    if (stored.state === 'cancelled') return { trace: 0, assemble: false };
    const ingested = stored.state === 'created' ? await ingestBatch(ctx.dataDir, stored, ctx.audit) : stored;
    ctx.logger.info('batch ingested', { batchId: ingested.id, state: ingested.state, rows: ingested.rows, chunks: ingested.chunks?.length });
    // Read again: a batch cancelled while it was ingested gets no trace jobs.
    return enqueueRemaining(ctx.queues, ctx.dataDir, await loadBatch(ctx.dataDir, ingested.id));
  };
}
