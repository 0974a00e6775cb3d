import { access } from 'node:fs/promises';
import type { PatientQuery } from '../domain/demographics.js';
import type { RowResult } from '../domain/row-result.js';
import { InputFileError, openInput, type InputOptions, type InputRow } from '../csv/read-input.js';
import { batchRowEvents, type AuditSink } from './audit-sink.js';
import { batchPaths, saveBatch, verifiedBatchInput, type BatchMeta, type ChunkRef } from './batch.js';
import { InputChangedError } from './input-changed-error.js';
import { openJsonLinesWriter, writeJsonLines } from './jsonl.js';
import { ROW_DIGEST_SCHEME, rowDigest } from './row-digest.js';

/** A row waiting to be traced, as stored in a chunk file. */
export interface ChunkRow {
  rowNumber: number;
  query: PatientQuery;
  /** The row's fingerprint (row-digest.ts), carried into its result; absent in older batches. */
  rowDigest?: string;
}

export function inputOptionsFor(meta: BatchMeta): InputOptions {
  return { mappingFile: meta.options.mappingFile, dayFirst: meta.options.dayFirst };
}

/** The result of a row rejected before any request: `invalid_input` with the validator's reason. */
export function rejectedRowResult(row: InputRow): RowResult {
  const problem = row.problem!;
  return {
    rowNumber: row.rowNumber,
    status: 'invalid_input',
    reason: problem.reason,
    detail: problem.message,
    exchanges: [],
    rowDigest: rowDigest(row.cells),
  };
}

/**
 * Streams the input once: rows that cannot be traced get their final result now (they never reach
 * SMSP), the rest are cut into chunk files of `chunkSize` rows. Deterministic, so running it again
 * after a crash rewrites the same chunks. A file that cannot be read as a table of demographics,
 * or whose copy no longer holds the bytes submitted, leaves the batch `rejected` with the reason
 * and returns normally.
 */
export async function ingestBatch(dataDir: string, meta: BatchMeta, audit: AuditSink): Promise<BatchMeta> {
  const paths = batchPaths(dataDir, meta.id);
  const chunkSize = meta.options.chunkSize;
  let input;
  try {
    input = await openInput(await verifiedBatchInput(dataDir, meta), inputOptionsFor(meta));
  } catch (err) {
    if (!(err instanceof InputFileError) && !(err instanceof InputChangedError)) throw err;
    const rejected: BatchMeta = { ...meta, state: 'rejected', rejection: { reason: err.reason, message: err.message } };
    await saveBatch(paths, rejected);
    return rejected;
  }

  const rejectedWriter = await openJsonLinesWriter<RowResult>(paths.rejected);
  // Found here, where nothing else grows with the file, so that assemble need not hold a table of
  // every local id beside its NHS number index (16 MB for a million rows; issue 5).
  const repeatsWriter = await openJsonLinesWriter<number>(paths.localIdRepeats);
  let localIdRepeats = 0;
  // Rejected rows are audited in batches, each batch durable before its rows are written.
  let rejectedPending: Array<{ result: RowResult; nhsNumber?: string }> = [];
  const flushRejected = async () => {
    if (rejectedPending.length === 0) return;
    const batch = rejectedPending;
    rejectedPending = [];
    await audit.append(batchRowEvents(meta, batch.map((r) => r.result), new Map(batch.map((r) => [r.result.rowNumber, r.nhsNumber]))));
    for (const { result } of batch) await rejectedWriter.write(result);
  };
  const chunks: ChunkRef[] = [];
  let pending: ChunkRow[] = [];
  let rows = 0;
  let rejectedRows = 0;

  const flush = async () => {
    if (pending.length === 0) return;
    const index = chunks.length;
    const chunk: ChunkRef = { index, firstRow: pending[0]!.rowNumber, lastRow: pending.at(-1)!.rowNumber, rows: pending.length };
    await writeJsonLines(paths.chunk(index), pending);
    chunks.push(chunk);
    pending = [];
  };

  try {
    for await (const row of input.rows) {
      rows++;
      if (row.flags.includes('duplicate_local_id')) {
        localIdRepeats++;
        await repeatsWriter.write(row.rowNumber);
      }
      if (row.problem || !row.query) {
        rejectedRows++;
        rejectedPending.push({ result: rejectedRowResult(row), nhsNumber: row.query?.nhsNumber });
        if (rejectedPending.length >= chunkSize) await flushRejected();
        continue;
      }
      pending.push({ rowNumber: row.rowNumber, query: row.query, rowDigest: rowDigest(row.cells) });
      if (pending.length >= chunkSize) await flush();
    }
    await flush();
    await flushRejected();
    await rejectedWriter.commit();
    await repeatsWriter.commit();
  } catch (err) {
    await rejectedWriter.abort();
    await repeatsWriter.abort();
    if (!(err instanceof InputFileError)) throw err;
    const rejected: BatchMeta = { ...meta, state: 'rejected', rejection: { reason: err.reason, message: err.message } };
    await saveBatch(paths, rejected);
    return rejected;
  }

  const { layout } = input;
  const ingested: BatchMeta = {
    ...meta,
    state: 'ingested',
    rows,
    rejectedRows,
    localIdRepeats,
    rowDigests: ROW_DIGEST_SCHEME,
    chunks,
    layout: {
      kind: layout.kind,
      encoding: layout.encoding,
      delimiter: layout.delimiter,
      headers: layout.headers,
      warnings: layout.warnings,
    },
  };
  await saveBatch(paths, ingested);
  return ingested;
}

export async function chunkIsDone(dataDir: string, meta: BatchMeta, index: number): Promise<boolean> {
  try {
    await access(batchPaths(dataDir, meta.id).chunkResults(index));
    return true;
  } catch {
    return false;
  }
}
