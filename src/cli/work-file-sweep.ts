import type { Logger } from '../log.js';
import { sweepWorkFiles } from '../pipeline/retention.js';
import type { CommandSession } from './session.js';

/**
 * One retention sweep (src/pipeline/retention.ts) for a command: each removal audited as done by
 * the signed-in principal, by retention. A failed sweep is logged and left to the next one: it
 * never fails the trace or stops the worker that runs it.
 */
export async function sweepAndAudit(session: CommandSession, logger: Logger): Promise<void> {
  const retentionHours = session.config.workRetentionHours;
  try {
    const removed = await sweepWorkFiles(session.config.dataDir, { retentionHours });
    if (removed.length === 0) return;
    await session.record(removed.map((meta) => ({ kind: 'work_files_removed', batchId: meta.id, outcome: 'retention', detail: `retentionHours=${retentionHours}` })));
    logger.info('work files removed', { batches: removed.length, retentionHours });
  } catch (err) {
    logger.warn('work file sweep failed; the next sweep tries again', { error: (err as Error).message });
  }
}
