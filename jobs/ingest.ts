import type { Job } from 'bullmq';
import { loadBatch } from '../src/pipeline/batch.js';
import { ingestBatch } from '../src/pipeline/ingest.js';
import { enqueueRemaining, type IngestJobData } from '../src/pipeline/queues.js';
import type { JobContext } from './context.js';

/** Ingest a submitted file, then queue its chunks. A re-run after a crash repeats only what is missing. */
export function ingestProcessor(ctx: JobContext) {
  return async (job: Job<IngestJobData>) => {
    const stored = await loadBatch(ctx.dataDir, job.data.batchId);
    const meta = stored.state === 'created' ? await ingestBatch(ctx.dataDir, stored, ctx.audit) : stored;
    ctx.logger.info('batch ingested', { batchId: meta.id, state: meta.state, rows: meta.rows, chunks: meta.chunks?.length });
    return enqueueRemaining(ctx.queues, ctx.dataDir, meta);
  };
}
