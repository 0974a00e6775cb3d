import pLimit from 'p-limit';
import { auditHeadOf, type AuditSink } from './audit-sink.js';
import { assembleBatch } from './assemble.js';
import { batchPaths, type BatchMeta } from './batch.js';
import { ingestBatch } from './ingest.js';
import { readJsonLines } from './jsonl.js';
import type { BatchProgress } from './progress.js';
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
 */
export async function runBatchEmbedded(dataDir: string, created: BatchMeta, options: EmbeddedRunOptions): Promise<BatchRunResult> {
  const startedAt = new Date(created.createdAt);
  const meta = created.state === 'created' ? await ingestBatch(dataDir, created, options.audit) : created;
  if (meta.state === 'rejected') return { meta };

  const { progress } = options;
  if (progress) {
    progress.total = meta.rows;
    for await (const result of readJsonLines<{ status: 'invalid_input' }>(batchPaths(dataDir, meta.id).rejected)) progress.record(result);
  }
  // One limit shared by every chunk keeps the SMSP slots busy across chunk boundaries.
  const caller = withRowLimit(options.caller, options.maxInFlight);
  const chunkLimit = pLimit(2);
  await Promise.all(
    (meta.chunks ?? []).map((chunk) =>
      chunkLimit(() => traceChunk(dataDir, meta, chunk.index, caller, {
        signal: options.signal,
        audit: options.audit,
        onRow: (result) => progress?.record(result),
      })),
    ),
  );
  return assembleBatch(dataDir, meta, { startedAt, auditHead: auditHeadOf(options.audit) });
}
