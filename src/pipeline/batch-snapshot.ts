import { readdir, readFile } from 'node:fs/promises';
import type { BatchSummary } from '../csv/output/summary.js';
import type { TraceStatus } from '../domain/outcome.js';
import { batchPaths, type BatchMeta } from './batch.js';
import { doneChunks } from './queues.js';
import type { BatchWatcher } from './watch-batch.js';

/**
 * One batch's progress at a glance, as every follower shows it (`pds-trace status [--follow]`, the
 * web batch page and its live updates, the JSON API): the stage it is at, rows done of the total,
 * counts by status, what is left and the pace. Read from the batch folder through a BatchWatcher
 * (which adds the live counts workers report through Redis), so it holds in any process and
 * survives any restart. One rule for all of them, here.
 */

/** Where a batch is in its life, in the words a person follows it by. */
export type BatchStage = 'waiting' | 'ingesting' | 'tracing' | 'assembling' | 'done' | 'rejected' | 'cancelled';

export interface BatchCounts {
  done: number;
  byStatus: Partial<Record<TraceStatus, number>>;
}

export interface BatchSnapshot {
  meta: BatchMeta;
  stage: BatchStage;
  /** Rows in the file, once ingest has counted them. */
  total: number | undefined;
  done: number;
  byStatus: Partial<Record<TraceStatus, number>>;
  /** What is left to trace, while it is being traced. */
  remaining?: { chunks: number; rows: number };
  /** The indexes of the chunks left, while it is being traced. */
  chunksLeft?: number[];
  /** Rows a second since this watcher first looked (0 until it has seen rows done). */
  rowsPerSecond: number;
  /** Seconds left at that pace, when known. */
  etaSeconds?: number;
}

/** Counts of a finished batch from its summary (its work files may be gone); undefined if unreadable. */
export async function summaryCounts(meta: BatchMeta): Promise<BatchCounts | undefined> {
  if (!meta.outputs) return undefined;
  try {
    const summary = JSON.parse(await readFile(meta.outputs.summaryJson, 'utf8')) as BatchSummary;
    return { done: summary.rows, byStatus: summary.byStatus };
  } catch {
    return undefined;
  }
}

/** A batch not yet ingested is being read once its first chunk file is written. */
async function ingestStarted(dataDir: string, meta: BatchMeta): Promise<boolean> {
  const names = await readdir(batchPaths(dataDir, meta.id).chunksDir).catch(() => [] as string[]);
  return names.length > 0;
}

export async function snapshotBatch(dataDir: string, watcher: BatchWatcher): Promise<BatchSnapshot> {
  const meta = await watcher.poll();
  const { progress } = watcher;
  // A finished batch counts from its summary (the retried rows included); one whose summary is gone
  // counts from its folder, if that is still there.
  const finished = meta.state === 'assembled' || meta.workFilesRemoved ? await summaryCounts(meta) : undefined;
  const counts: BatchCounts = finished ?? (meta.workFilesRemoved ? { done: 0, byStatus: {} } : { done: progress.done, byStatus: progress.byStatus });
  const snapshot: BatchSnapshot = { meta, stage: 'waiting', total: meta.rows, done: counts.done, byStatus: counts.byStatus, rowsPerSecond: progress.rate() };
  switch (meta.state) {
    case 'created':
      snapshot.stage = (await ingestStarted(dataDir, meta)) ? 'ingesting' : 'waiting';
      break;
    case 'ingested': {
      snapshot.stage = 'tracing';
      if (meta.workFilesRemoved) break;
      const done = await doneChunks(dataDir, meta);
      snapshot.chunksLeft = (meta.chunks ?? []).filter((c) => !done.has(c.index)).map((c) => c.index);
      if (snapshot.chunksLeft.length === 0) snapshot.stage = 'assembling';
      snapshot.remaining = { chunks: snapshot.chunksLeft.length, rows: Math.max(0, (meta.rows ?? 0) - counts.done) };
      snapshot.etaSeconds = progress.etaSeconds();
      break;
    }
    case 'assembled':
      snapshot.stage = 'done';
      break;
    default:
      snapshot.stage = meta.state;
  }
  return snapshot;
}
