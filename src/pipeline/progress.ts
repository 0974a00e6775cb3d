import { TRACE_STATUSES, type TraceStatus } from '../domain/outcome.js';
import type { RowResult } from '../domain/row-result.js';

/** Live counts for one batch: rows done of rows known, by status, and the pace so far. */
export class BatchProgress {
  total: number | undefined;
  done = 0;
  readonly byStatus: Record<TraceStatus, number> = Object.fromEntries(TRACE_STATUSES.map((s) => [s, 0])) as Record<TraceStatus, number>;
  /** Why the batch is not moving, when something outside it holds it (e.g. a provider hold). */
  notice: string | undefined;
  private readonly startedAt: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.startedAt = now();
  }

  record(result: Pick<RowResult, 'status'>): void {
    this.done++;
    this.byStatus[result.status]++;
  }

  /** Rows per second since the batch started. */
  rate(): number {
    const seconds = (this.now() - this.startedAt) / 1000;
    return seconds > 0 ? this.done / seconds : 0;
  }

  /** Seconds left at the current pace, when the total is known. */
  etaSeconds(): number | undefined {
    const rate = this.rate();
    if (this.total === undefined || rate === 0) return undefined;
    return Math.max(0, (this.total - this.done) / rate);
  }
}
