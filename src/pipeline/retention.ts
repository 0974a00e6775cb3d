import { rm } from 'node:fs/promises';
import { batchPaths, listBatchIds, loadBatch, saveBatch, type BatchMeta, type WorkFilesRemoval } from './batch.js';

/**
 * Work files hold patient data and are only needed until a batch is finished and perhaps retried:
 * the batch's input copy, its chunks and chunk results, and its lists of rejected rows and repeated
 * local ids. They are removed once a finished batch is older than the retention period
 * (PDS_TRACE_WORK_RETENTION_HOURS), or at once by `pds-trace purge`. batch.json stays, saying what
 * was removed, when and by whom; so do the outputs in the batch's output folder. The file the user
 * submitted (`inputPath`) is theirs and is never touched.
 */

/** Batches whose work files may go: nothing will read them again but `retry`. */
export function isFinished(meta: BatchMeta): boolean {
  return meta.state === 'assembled' || meta.state === 'rejected' || meta.state === 'cancelled';
}

/** A running batch needs its work files: removing them would lose its rows. */
export class BatchStillRunningError extends Error {
  override readonly name = 'BatchStillRunningError';
  constructor(readonly batchId: string, readonly state: BatchMeta['state']) {
    super(`batch ${batchId} is ${state}, not finished: its work files are still needed (see \`pds-trace status ${batchId}\`; \`pds-trace resume ${batchId}\` finishes it)`);
  }
}

/** What `retry` or `resume` needed is gone: the batch can only be submitted again. */
export class WorkFilesRemovedError extends Error {
  override readonly name = 'WorkFilesRemovedError';
  constructor(readonly batchId: string, readonly removal: WorkFilesRemoval, action: 'retried' | 'resumed') {
    super(`batch ${batchId}'s work files were removed on ${formatRemoval(removal)}; it cannot be ${action} — submit the file again`);
  }
}

/** "2026-12-06 08:00 UTC (retention 168 h)" or "2026-12-06 08:00 UTC by alice (purge)". */
export function formatRemoval(removal: WorkFilesRemoval): string {
  const at = `${removal.at.slice(0, 16).replace('T', ' ')} UTC`;
  // Told apart by the period, not by `by`: nothing stops a user from being called "retention".
  return removal.retentionHours !== undefined ? `${at} (retention ${removal.retentionHours} h)` : `${at} by ${removal.by} (purge)`;
}

/** Refuses, with what the user needs to know, a batch whose work files are gone. */
export function requireWorkFiles(meta: BatchMeta, action: 'retried' | 'resumed'): void {
  if (meta.workFilesRemoved) throw new WorkFilesRemovedError(meta.id, meta.workFilesRemoved, action);
}

/**
 * Removes a finished batch's work files and records the removal in batch.json: removed first,
 * recorded after, so batch.json never claims patient data gone that is still there (a crash in
 * between leaves the batch to the next sweep, which removes what is left and records it).
 */
export async function removeWorkFiles(dataDir: string, meta: BatchMeta, removal: Omit<WorkFilesRemoval, 'at'>, now = new Date()): Promise<BatchMeta> {
  if (!isFinished(meta)) throw new BatchStillRunningError(meta.id, meta.state);
  const paths = batchPaths(dataDir, meta.id);
  for (const file of [paths.input, paths.chunksDir, paths.resultsDir, paths.rejected, paths.localIdRepeats, paths.outputsClaim]) {
    await rm(file, { recursive: true, force: true });
  }
  const removed: BatchMeta = { ...meta, workFilesRemoved: { at: now.toISOString(), ...removal } };
  await saveBatch(paths, removed);
  return removed;
}

export interface SweepOptions {
  /** PDS_TRACE_WORK_RETENTION_HOURS; 0 removes them from every finished batch. */
  retentionHours: number;
  now?: Date;
}

/**
 * Removes the work files of every finished batch that finished at least `retentionHours` ago (a
 * batch rejected at ingest counts from its creation). Returns the batches it removed them from.
 * Batch folders it cannot read are left alone: the sweep never stops the process running it.
 */
export async function sweepWorkFiles(dataDir: string, options: SweepOptions): Promise<BatchMeta[]> {
  const now = options.now ?? new Date();
  const cutoff = now.getTime() - options.retentionHours * 3_600_000;
  const removed: BatchMeta[] = [];
  for (const id of await listBatchIds(dataDir)) {
    const meta = await loadBatch(dataDir, id).catch(() => undefined);
    if (!meta || !isFinished(meta) || meta.workFilesRemoved) continue;
    if (Date.parse(meta.finishedAt ?? meta.createdAt) > cutoff) continue;
    removed.push(await removeWorkFiles(dataDir, meta, { by: 'retention', retentionHours: options.retentionHours }, now));
  }
  return removed;
}
