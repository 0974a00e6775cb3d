import pLimit from 'p-limit';
import type { RowResult } from '../domain/row-result.js';
import type { AuditSink } from './audit-sink.js';
import { batchRowEvents } from './audit-sink.js';
import { batchPaths, type BatchMeta } from './batch.js';
import { chunkIsDone, type ChunkRow } from './ingest.js';
import { readAllJsonLines, writeJsonLines } from './jsonl.js';
import { traceRow, type SmspCaller } from './strategy.js';

export interface TraceChunkOptions {
  /** Rows of this chunk traced at once in this process (the global SMSP limit still applies per request). */
  concurrency: number;
  signal?: AbortSignal;
  onRow?: (result: RowResult) => void;
  /** Every exchange is audited, durably, before the chunk's results are written. */
  audit: AuditSink;
}

/**
 * Traces every row of one chunk and writes the chunk's results in one atomic step. A chunk whose
 * results file exists is done and is never traced again, so a job re-run after a crash or a stall
 * sends nothing twice and writes nothing twice.
 */
export async function traceChunk(
  dataDir: string,
  meta: BatchMeta,
  index: number,
  caller: SmspCaller,
  options: TraceChunkOptions,
): Promise<'traced' | 'already_done'> {
  if (await chunkIsDone(dataDir, meta, index)) return 'already_done';
  const paths = batchPaths(dataDir, meta.id);
  const rows = await readAllJsonLines<ChunkRow>(paths.chunk(index));
  const limit = pLimit(options.concurrency);
  const strategy = {
    minimal: meta.options.minimal,
    fallbacks: meta.options.fallbacks,
    username: meta.options.user,
    signal: options.signal,
  };
  const results = await Promise.all(
    rows.map((row) =>
      limit(async () => {
        const result = await traceRow(caller, row.rowNumber, row.query, strategy);
        options.onRow?.(result);
        return result;
      }),
    ),
  );
  // A shutdown mid-chunk leaves `aborted` errors behind: do not record them as the chunk's answer,
  // let the chunk be traced again when the batch resumes.
  if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
  await options.audit.append(batchRowEvents(meta, results, new Map(rows.map((r) => [r.rowNumber, r.query.nhsNumber]))));
  await writeJsonLines(paths.chunkResults(index), results);
  return 'traced';
}
