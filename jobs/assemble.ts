import type { Job } from 'bullmq';
import { assembleBatch } from '../src/pipeline/assemble.js';
import { loadBatch } from '../src/pipeline/batch.js';
import type { AssembleJobData } from '../src/pipeline/queues.js';
import type { JobContext } from './context.js';

/** Merge every chunk's results into the batch outputs, in input order. */
export function assembleProcessor(ctx: JobContext) {
  return async (job: Job<AssembleJobData>) => {
    const meta = await loadBatch(ctx.dataDir, job.data.batchId);
    if (meta.state === 'assembled') return { rows: meta.rows };
    const { summary } = await assembleBatch(ctx.dataDir, meta, { startedAt: new Date(meta.createdAt) });
    ctx.logger.info('batch assembled', { batchId: meta.id, rows: summary.rows });
    return { rows: summary.rows, byStatus: summary.byStatus };
  };
}
