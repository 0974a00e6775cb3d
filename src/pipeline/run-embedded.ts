import pLimit from 'p-limit';
import type { RowResult } from '../domain/row-result.js';
import { auditHeadOf, type AuditSink } from './audit-sink.js';
import { assembleBatch } from './assemble.js';
import { batchPaths, type BatchMeta } from './batch.js';
import { throwIfCancelled } from './cancel.js';
import { ingestBatch } from './ingest.js';
import { readJsonLines } from './jsonl.js';
import type { BatchProgress } from './progress.js';
import { doneChunks } from './queues.js';
import { withRowLimit, type SmspCaller } from './strategy.js';
import { traceChunk } from './trace-chunk.js';
import type { BatchSummary } from '../csv/output/summary.js';

export interface EmbeddedRunOptions {
  caller: SmspCaller;
  audit: AuditSink;
  /** SMSP_MAX_IN_FLIGHT: rows in progress are kept above it (`withRowLimit`); the caller's limiter holds the real line. */
  maxInFlight: number;
  progress?: BatchProgress;
  signal?: AbortSignal;
  /** How often an open chunk looks whether the batch was cancelled, in milliseconds. */
  cancelPollMs?: number;
}

export interface BatchRunResult {
  meta: BatchMeta;
  summary?: BatchSummary;
}

/**
 * Drives one batch through ingest → trace → assemble in this process, with no Redis: the same
 * stage functions the BullMQ jobs call. Two chunks are open at a time (so the tail of one never
 * leaves the SMSP limit idle, and memory stays flat in the file's size) and their rows queue, in
 * order, on one row limit sized for `maxInFlight` calls in flight.
 *
 * A batch cancelled from another process (`pds-trace cancel`) stops at its next row with
 * BatchCancelledError, once every open chunk has stopped, and is not assembled.
 */
export async function runBatchEmbedded(dataDir: string, created: BatchMeta, options: EmbeddedRunOptions): Promise<BatchRunResult> {
  await throwIfCancelled(dataDir, created.id);
  const startedAt = new Date(created.createdAt);
  const meta = created.state === 'created' ? await ingestBatch(dataDir, created, options.audit) : created;
  if (meta.state === 'rejected') return { meta };

  const { progress } = options;
  if (progress) await countDoneRows(dataDir, meta, progress);
  // One limit shared by every chunk keeps the SMSP slots busy across chunk boundaries.
  const caller = withRowLimit(options.caller, options.maxInFlight);
  const chunkLimit = pLimit(2);
  let failed = false;
  const settled = await Promise.allSettled(
    (meta.chunks ?? []).map((chunk) =>
      chunkLimit(async () => {
        // After a chunk failed (a cancellation, an audit store refusing), no other one starts.
        if (failed) return;
        await traceChunk(dataDir, meta, chunk.index, caller, {
          signal: options.signal,
          audit: options.audit,
          onRow: (result) => progress?.record(result),
          cancelPollMs: options.cancelPollMs,
        }).catch((err: unknown) => {
          failed = true;
          throw err;
        });
      }),
    ),
  );
  // Every open chunk has finished or stopped before the first failure is reported: nothing is
  // still writing to the audit store when the caller closes it.
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  await throwIfCancelled(dataDir, meta.id);
  return assembleBatch(dataDir, meta, { startedAt, auditHead: auditHeadOf(options.audit) });
}

/** Rows done before this run (rejected at ingest, chunks traced earlier), then the clock starts. */
async function countDoneRows(dataDir: string, meta: BatchMeta, progress: BatchProgress): Promise<void> {
  const paths = batchPaths(dataDir, meta.id);
  progress.total = meta.rows;
  for await (const result of readJsonLines<RowResult>(paths.rejected)) progress.record(result);
  for (const index of await doneChunks(dataDir, meta)) {
    for await (const result of readJsonLines<RowResult>(paths.chunkResults(index))) progress.record(result);
  }
  progress.startClock();
}
