import type { RowResult } from '../domain/row-result.js';
import { batchRowEvents, type AuditSink } from './audit-sink.js';
import { batchPaths, verifiedBatchInput, type BatchMeta } from './batch.js';
import type { ChunkRow } from './ingest.js';
import { readAllJsonLines, writeJsonLines } from './jsonl.js';
import { traceRow, withRowLimit, type SmspCaller } from './strategy.js';

export interface RetryErrorsOptions {
  /** SMSP_MAX_IN_FLIGHT (rows in progress: `withRowLimit`). */
  maxInFlight: number;
  signal?: AbortSignal;
  onRow?: (result: RowResult) => void;
  audit: AuditSink;
}

/**
 * Traces again only the rows of a finished batch that ended as `error`, chunk by chunk, and
 * rewrites each touched chunk's results atomically. The earlier failed exchanges stay in the row's
 * history: the audit trail records every request that was sent. Returns how many rows were retried
 * and how many are still errors; the caller re-assembles the outputs.
 *
 * A batch whose input copy changed since submission is refused (InputChangedError) before any
 * request: its outputs could not be re-assembled, so the requests would be wasted.
 */
export async function retryErrorRows(
  dataDir: string,
  meta: BatchMeta,
  caller: SmspCaller,
  options: RetryErrorsOptions,
): Promise<{ retried: number; stillErrors: number }> {
  await verifiedBatchInput(dataDir, meta);
  const paths = batchPaths(dataDir, meta.id);
  const limited = withRowLimit(caller, options.maxInFlight);
  const strategy = { minimal: meta.options.minimal, fallbacks: meta.options.fallbacks, username: meta.options.user, signal: options.signal };
  let retried = 0;
  let stillErrors = 0;
  for (const chunk of meta.chunks ?? []) {
    const results = await readAllJsonLines<RowResult>(paths.chunkResults(chunk.index));
    const failed = new Set(results.filter((r) => r.status === 'error').map((r) => r.rowNumber));
    if (failed.size === 0) continue;
    const queries = new Map(
      (await readAllJsonLines<ChunkRow>(paths.chunk(chunk.index))).filter((row) => failed.has(row.rowNumber)).map((row) => [row.rowNumber, row.query]),
    );
    const updated = await Promise.all(
      results.map(async (previous) => {
        const query = queries.get(previous.rowNumber);
        if (!query) return previous;
        const again = await traceRow(limited, previous.rowNumber, query, strategy);
        options.onRow?.(again);
        return { ...again, exchanges: [...previous.exchanges, ...again.exchanges], rowDigest: previous.rowDigest };
      }),
    );
    // As in traceChunk: a shutdown leaves these rows as they were rather than half-retried.
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    // Only the new exchanges are audited: the earlier ones were when they happened.
    const retriedResults = updated.filter((r) => failed.has(r.rowNumber));
    const previous = new Map(results.map((r) => [r.rowNumber, r.exchanges.length]));
    await options.audit.append(
      batchRowEvents(
        meta,
        retriedResults.map((r) => ({ ...r, exchanges: r.exchanges.slice(previous.get(r.rowNumber) ?? 0) })),
        queries.size > 0 ? new Map([...queries].map(([row, q]) => [row, q.nhsNumber])) : new Map(),
      ),
    );
    await writeJsonLines(paths.chunkResults(chunk.index), updated);
    retried += failed.size;
    stillErrors += updated.filter((r) => failed.has(r.rowNumber) && r.status === 'error').length;
  }
  return { retried, stillErrors };
}
