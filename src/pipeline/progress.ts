import { TRACE_STATUSES, type TraceStatus } from '../domain/outcome.js';
import type { RowResult } from '../domain/row-result.js';

export type StatusCounts = Record<TraceStatus, number>;

export function zeroCounts(): StatusCounts {
  return Object.fromEntries(TRACE_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

/**
 * Live counts for one batch: rows done of rows known, by status, and the pace so far. Rows come in
 * two kinds: settled (recorded one by one: rows rejected at ingest, rows of chunks whose results are
 * written, rows traced in this process) and live (reported by workers elsewhere for chunks they
 * are still tracing, replaced wholesale on every look). A live count may fall back when a chunk is
 * traced again after a crash; the settled counts never do.
 */
export class BatchProgress {
  total: number | undefined;
  /** Why the batch is not moving, when something outside it holds it (e.g. a provider hold). */
  notice: string | undefined;
  readonly #settled = zeroCounts();
  #settledDone = 0;
  #live: Partial<StatusCounts> = {};
  #liveDone = 0;
  #startedAt: number;
  #doneAtStart = 0;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.#startedAt = now();
  }

  get done(): number {
    return this.#settledDone + this.#liveDone;
  }

  get byStatus(): StatusCounts {
    const counts = { ...this.#settled };
    for (const [status, n] of Object.entries(this.#live) as Array<[TraceStatus, number]>) counts[status] += n;
    return counts;
  }

  record(result: Pick<RowResult, 'status'>): void {
    this.#settledDone++;
    this.#settled[result.status]++;
  }

  /** Rows traced in chunks still open elsewhere, as last reported: replaces the previous report. */
  setLive(counts: Partial<StatusCounts>): void {
    this.#live = counts;
    this.#liveDone = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
  }

  /**
   * Measures the pace from now and from the rows done now: a follower that joins a batch half done
   * (`resume`, `status --follow`) would otherwise count the earlier rows as done in no time.
   */
  startClock(): void {
    this.#startedAt = this.now();
    this.#doneAtStart = this.done;
  }

  /** Rows per second since the clock started. */
  rate(): number {
    const seconds = (this.now() - this.#startedAt) / 1000;
    return seconds > 0 ? Math.max(0, this.done - this.#doneAtStart) / seconds : 0;
  }

  /** Seconds left at the current pace, when the total is known. */
  etaSeconds(): number | undefined {
    const rate = this.rate();
    if (this.total === undefined || rate === 0) return undefined;
    return Math.max(0, (this.total - this.done) / rate);
  }
}
