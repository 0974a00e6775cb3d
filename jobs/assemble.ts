import { UnrecoverableError, type Job } from 'bullmq';
import { assembleBatch } from '../src/pipeline/assemble.js';
import { auditHeadOf } from '../src/pipeline/audit-sink.js';
import { loadBatch } from '../src/pipeline/batch.js';
import { InputChangedError } from '../src/pipeline/input-changed-error.js';
import type { AssembleJobData } from '../src/pipeline/queues.js';
import type { JobContext } from './context.js';

/**
 * Merge every chunk's results into the batch outputs, in input order. A batch whose input changed
 * is stopped (assembleBatch leaves it `rejected`): failing the job for good, not retrying it.
 */
export function assembleProcessor(ctx: JobContext) {
  return async (job: Job<AssembleJobData>) => {
    const meta = await loadBatch(ctx.dataDir, job.data.batchId);
    // A cancelled batch gets no outputs.
    if (meta.state === 'assembled' || meta.state === 'rejected' || meta.state === 'cancelled') return { rows: meta.rows, state: meta.state };
    const { summary } = await assembleBatch(ctx.dataDir, meta, { startedAt: new Date(meta.createdAt), auditHead: auditHeadOf(ctx.audit) }).catch((err: unknown) => {
      throw err instanceof InputChangedError ? new UnrecoverableError(err.message) : err;
    });
    ctx.logger.info('batch assembled', { batchId: meta.id, rows: summary.rows });
    return { rows: summary.rows, byStatus: summary.byStatus };
  };
}
