import type { RowResult } from '../domain/row-result.js';
import type { AuditSink } from './audit-sink.js';
import { batchRowEvents } from './audit-sink.js';
import { batchPaths, type BatchMeta } from './batch.js';
import { openExchangeJournal } from './exchange-journal.js';
import { withRequestPriority } from './priority.js';
import { chunkIsDone, type ChunkRow } from './ingest.js';
import { readAllJsonLines, writeJsonLines } from './jsonl.js';
import { throwIfCancelled, watchForCancel } from './cancel.js';
import { RowNotStartedError, traceRow, type SmspCaller } from './strategy.js';

export interface TraceChunkOptions {
  signal?: AbortSignal;
  onRow?: (result: RowResult) => void;
  /** Every exchange is audited, durably, before the chunk's results are written. */
  audit: AuditSink;
  /** Rows whose audit events are appended together while the chunk is traced. Default 128. */
  auditGroupRows?: number;
  /** How often to look whether the batch was cancelled, in milliseconds (cancel.ts). */
  cancelPollMs?: number;
}

const DEFAULT_AUDIT_GROUP_ROWS = 128;

/**
 * Traces every row of one chunk and writes the chunk's results in one atomic step. A chunk whose
 * results file exists is done and is never traced again, so a job re-run after a crash or a stall
 * sends nothing twice and writes nothing twice.
 *
 * Every row asks at once: the caller's limit (the process's SMSP limiter, or the embedded runner's
 * row limit) queues them in order, so of two chunks open at once one runs after the other and its
 * rows fill the slots the other's tail leaves. Each chunk limiting its own rows as well put the two
 * in step, both tails at once, and the SMSP limit sat idle for a round trip per pair of chunks
 * (5% of the throughput at 500 rows a chunk).
 *
 * Exchanges are audited in groups as their rows finish, not all at the end: building, hashing and
 * writing a whole chunk's audit events in one go held the event loop for tens of milliseconds, and
 * every answer arriving meanwhile waited with its SMSP slot held.
 *
 * A batch cancelled meanwhile (cancel.ts) stops the chunk at its next row: rows not yet started are
 * not traced, rows under way finish and are audited, and no results file is written
 * (BatchCancelledError), so a cancelled chunk leaves nothing half-written.
 */
export async function traceChunk(
  dataDir: string,
  meta: BatchMeta,
  index: number,
  caller: SmspCaller,
  options: TraceChunkOptions,
): Promise<'traced' | 'already_done'> {
  if (await chunkIsDone(dataDir, meta, index)) return 'already_done';
  await throwIfCancelled(dataDir, meta.id);
  const paths = batchPaths(dataDir, meta.id);
  const cancel = watchForCancel(dataDir, meta.id, options.cancelPollMs);
  try {
    const strategy = {
      minimal: meta.options.minimal,
      fallbacks: meta.options.fallbacks,
      username: meta.options.user,
      signal: options.signal,
      stop: cancel.signal,
    };
    // Read whole before the first request: a chunk file that cannot be read sends nothing.
    const rows = await readAllJsonLines<ChunkRow>(paths.chunk(index));
    const suppliedNhsNumbers = new Map(rows.map((r) => [r.rowNumber, r.query.nhsNumber]));
    // Each group goes to the chunk's exchange journal first, then to the audit store: the batch's
    // audit CSV then lists every exchange the store holds, those of an interrupted attempt too.
    const journal = await openExchangeJournal(dataDir, meta, index);
    const audit = new GroupedAudit(options.audit, options.auditGroupRows ?? DEFAULT_AUDIT_GROUP_ROWS, async (results) => {
      const recordedAt = new Date();
      await journal.record(results, recordedAt.toISOString());
      return batchRowEvents(meta, results, suppliedNhsNumbers, recordedAt);
    });
    let results: Array<RowResult | undefined>;
    try {
      // Every request of these rows waits in the batch's priority class (priority.ts).
      results = await withRequestPriority(meta.options.priority ?? 'interactive', () => Promise.all(
        rows.map(async (row) => {
          const traced = await traceRow(caller, row.rowNumber, row.query, strategy).catch((err: unknown) => {
            if (err instanceof RowNotStartedError) return undefined;
            throw err;
          });
          if (!traced) return undefined;
          const result: RowResult = { ...traced, rowDigest: row.rowDigest };
          options.onRow?.(result);
          audit.add(result);
          return result;
        }),
      ));
      // Exchanges that happened are audited even when the chunk is abandoned below.
      await audit.flush();
    } finally {
      await journal.close();
    }
    // A shutdown mid-chunk leaves `aborted` errors behind: do not record them as the chunk's answer,
    // let the chunk be traced again when the batch resumes.
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    // Every row traced before the cancellation was seen: the chunk is whole, so it is kept.
    const traced = results.filter((r): r is RowResult => r !== undefined);
    if (traced.length < rows.length) {
      await throwIfCancelled(dataDir, meta.id);
      throw new Error(`batch ${meta.id} chunk ${index}: rows were stopped, but the batch is not cancelled`);
    }
    await writeJsonLines(paths.chunkResults(index), traced);
    return 'traced';
  } finally {
    cancel.stop();
  }
}

/**
 * Row results waiting for their audit events to be appended: a group goes to the sink once
 * `groupRows` have finished, one append at a time (rows finishing meanwhile join the next group),
 * each group in row order. `flush` appends the rest and reports the first failure.
 */
class GroupedAudit {
  #pending: RowResult[] = [];
  #appending: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;

  constructor(
    private readonly sink: AuditSink,
    private readonly groupRows: number,
    private readonly events: (results: readonly RowResult[]) => Promise<ReturnType<typeof batchRowEvents>>,
  ) {}

  add(result: RowResult): void {
    this.#pending.push(result);
    if (this.#appending === undefined && this.#failure === undefined && this.#pending.length >= this.groupRows) {
      this.#appending = this.#appendWhile(this.groupRows);
    }
  }

  async flush(): Promise<void> {
    await this.#appending;
    if (this.#failure === undefined && this.#pending.length > 0) await (this.#appending = this.#appendWhile(1));
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  async #appendWhile(minRows: number): Promise<void> {
    try {
      while (this.#pending.length >= minRows && this.#pending.length > 0) {
        const group = this.#pending.splice(0).sort((a, b) => a.rowNumber - b.rowNumber);
        await this.sink.append(await this.events(group));
      }
    } catch (error) {
      this.#failure = { error };
    } finally {
      this.#appending = undefined;
    }
  }
}
