import type { ChainHead } from '../../audit/hash-chain.js';
import { TRACE_STATUSES, type TraceStatus } from '../../domain/outcome.js';
import type { RowResult } from '../../domain/row-result.js';
import type { AuditRow } from './audit-writer.js';
import { DQ_FLAG_ORDER } from '../../domain/dq-flags.js';
import { DISCREPANCY_FIELDS, type DiscrepancyField, type RowFindings } from '../../domain/findings.js';
import { writeFileAtomic } from './atomic-file.js';
import { NHS_CONFIDENTIAL_LABEL, SIMULATED_LABEL } from './confidential-label.js';
import { fieldOfReason, type DataQualityField } from './data-quality.js';
import { DurationStats } from './duration-stats.js';
import { localTime } from '../../domain/local-time.js';
import type { Provenance } from './provenance.js';
import { renderSummaryHtml } from './summary-html.js';

/**
 * The batch summary analysts open first: provenance, counts per status and reason, labelled rates, data-quality
 * findings and timings. Built row by row in constant memory, written as JSON and as HTML.
 */

/** Statuses where PDS gave the person's NHS number: the "found" side of the rates. */
const MATCHED_STATUSES: ReadonlySet<TraceStatus> = new Set(['verified', 'matched', 'superseded']);
/** Statuses where no trace took place (rejected before or failed during): outside the rate of rows answered. */
const UNTRACED_STATUSES: ReadonlySet<TraceStatus> = new Set(['invalid_input', 'error']);

export interface DataQualityFinding {
  /** Rows rejected for a problem with this field. */
  rows: number;
  byReason: Record<string, number>;
}

/** Rows whose local details differ from PDS (MSCA-DQ-06), and how many differ in each field. */
export interface DiscrepancyCounts {
  rows: number;
  /** Every field, zeros included. */
  byField: Record<DiscrepancyField, number>;
}

/** A rate that says what it counts: `count` of `outOf`, and in words which rows are which. */
export interface LabelledRate {
  /** What is counted and out of what, in words; repeated in the HTML beside the figure. */
  description: string;
  count: number;
  outOf: number;
  /** count / outOf, 0–1 to four places; null when outOf is 0. */
  rate: number | null;
}

export const RATE_DESCRIPTIONS = {
  foundOfAnswered:
    'Rows PDS gave an NHS number for (verified, matched or superseded), out of the rows PDS answered about: invalid_input and error rows are not counted',
  foundOfAllRows:
    'Rows PDS gave an NHS number for (verified, matched or superseded), out of every row in the file: invalid_input and error rows are counted as not found',
} as const;

/** What one fallback did: the rows it ran on and what they ended as. */
export interface FallbackUse {
  /** The fallback in words (src/pipeline/strategy.ts FALLBACKS). */
  description: string;
  /** Rows the fallback ran on: each of them would have ended otherwise without it. */
  rows: number;
  /** Those rows by their final status. */
  byFinalStatus: Partial<Record<TraceStatus, number>>;
}

export interface BatchTimings {
  /** Rows per second over the whole run (the pipeline's figure when it gave one). */
  rowsPerSecond: number | null;
  /** SMSP exchanges, every attempt counted (those of an interrupted chunk's attempt too, when assembled from the audit rows). */
  exchanges: number;
  /** Exchanges that were retries (attempt > 1). */
  retries: number;
  /** Rows that needed more than one attempt. */
  rowsRetried: number;
  meanExchangeMs: number | null;
  p95ExchangeMs: number | null;
  maxExchangeMs: number | null;
  exchangesByInteraction: Record<string, number>;
  /** Per exchange: SMSP/DEMOG codes, `ITK-<code>` faults, `HTTP-<status>`, `none` when nothing came back. */
  exchangesByResponseCode: Record<string, number>;
}

export interface BatchSummary {
  label: typeof NHS_CONFIDENTIAL_LABEL;
  /** Second, in capitals, when the answers came from a simulator: SIMULATED_LABEL. */
  simulatedWarning?: string;
  batchId: string;
  inputFile: string;
  user: string;
  /** ISO 8601 UTC, for machines. */
  startedAt: string;
  /** The same time for people: the machine's zone, named (`6 Dec 2026 10:04 GMT`). */
  startedAtLocal: string;
  finishedAt: string;
  finishedAtLocal: string;
  durationSeconds: number;
  /** Where the answers came from and how the batch was asked; absent only when the pipeline passed none. */
  provenance?: Provenance;
  rows: number;
  /** Rows PDS gave an answer about: all rows but `invalid_input` and `error`. */
  tracedRows: number;
  /** Every status, zeros included. */
  byStatus: Record<TraceStatus, number>;
  byReason: Record<string, number>;
  /** Each rate with what it counts (RATE_DESCRIPTIONS). */
  rates: { foundOfAnswered: LabelledRate; foundOfAllRows: LabelledRate };
  /**
   * Every fallback the batch asked for, zeros included, with the rows each one ran on and what
   * they became (with search_when_not_verified, the not_verified rows that ended matched or no_match).
   */
  fallbacksUsed: Record<string, FallbackUse>;
  /** Rejected rows (`invalid_input`) per input field at fault; fields without problems are absent. */
  dataQuality: Partial<Record<DataQualityField, DataQualityFinding>>;
  /**
   * Rows per data-quality flag (MSCA-DQ-05 data-quality reports): every flag of src/domain/dq-flags.ts,
   * zeros included, plus any other flag the CSV reader raised.
   */
  flaggedRows: Record<string, number>;
  discrepancies: DiscrepancyCounts;
  timings: BatchTimings;
  /** True when the answers came from the built-in simulator, not PDS (the pipeline passes it to finish()). */
  simulated?: boolean;
  /** The SMSP provider in words: its URL, or "built-in simulator". */
  provider?: string;
  /**
   * The audit chain's head after the batch's events: a witness `audit verify` checks the chain
   * against (src/audit/witnesses.ts). Absent when the pipeline did not pass one.
   */
  auditHead?: ChainHead;
  /** Further details the pipeline passes to finish() (e.g. the runner, the simulator flag). */
  [detail: string]: unknown;
}

export interface SummaryStart {
  batchId: string;
  inputFile: string;
  user: string;
  startedAt: Date;
  /** The fallbacks the batch asked for, code → words, so each is reported even when it changed nothing. */
  fallbacks?: Readonly<Record<string, string>>;
  /** Count exchanges from addAuditRow (every attempt's, as the audit CSV lists them), not from add's results. */
  exchangesFromAuditRows?: boolean;
}

export interface SummaryFinish {
  finishedAt: Date;
  rowsPerSecond?: number;
  simulated?: boolean;
  provider?: string;
  provenance?: Provenance;
  /** The zone people's times are written in; default the machine's (TZ). */
  timeZone?: string;
  [detail: string]: unknown;
}

function labelledRate(description: string, count: number, outOf: number): LabelledRate {
  return { description, count, outOf, rate: outOf === 0 ? null : round(count / outOf, 4) };
}

function increment(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

function zeroByStatus(): Record<TraceStatus, number> {
  return Object.fromEntries(TRACE_STATUSES.map((status) => [status, 0])) as Record<TraceStatus, number>;
}

function round(value: number, places: number): number {
  const factor = 10 ** places;
  return Math.round(value * factor) / factor;
}

export class SummaryBuilder {
  private rows = 0;
  private readonly byStatus = zeroByStatus();
  private readonly byReason: Record<string, number> = {};
  private readonly dataQuality: Partial<Record<DataQualityField, DataQualityFinding>> = {};
  private readonly flaggedRows: Record<string, number> = Object.fromEntries(DQ_FLAG_ORDER.map((flag) => [flag, 0]));
  private readonly discrepancies: DiscrepancyCounts = {
    rows: 0,
    byField: Object.fromEntries(DISCREPANCY_FIELDS.map((field) => [field, 0])) as Record<DiscrepancyField, number>,
  };
  private readonly durations = new DurationStats();
  private retries = 0;
  private rowsRetried = 0;
  private lastRetriedRow: number | undefined;
  private readonly byInteraction: Record<string, number> = {};
  private readonly byResponseCode: Record<string, number> = {};
  private readonly fallbacksUsed: Record<string, FallbackUse>;

  constructor(private readonly start: SummaryStart) {
    this.fallbacksUsed = Object.fromEntries(
      Object.entries(start.fallbacks ?? {}).map(([code, description]) => [code, { description, rows: 0, byFinalStatus: {} }]),
    );
  }

  add(result: RowResult, findings: RowFindings = {}): void {
    this.rows++;
    for (const fallback of new Set(result.fallbacks)) {
      const use = (this.fallbacksUsed[fallback] ??= { description: fallback, rows: 0, byFinalStatus: {} });
      use.rows++;
      use.byFinalStatus[result.status] = (use.byFinalStatus[result.status] ?? 0) + 1;
    }
    for (const flag of new Set(findings.flags)) increment(this.flaggedRows, flag);
    const fields = new Set((findings.discrepancies ?? []).map((d) => d.field));
    if (fields.size > 0) this.discrepancies.rows++;
    for (const field of fields) this.discrepancies.byField[field]++;
    this.byStatus[result.status]++;
    increment(this.byReason, result.reason);
    if (result.status === 'invalid_input') {
      const field = fieldOfReason(result.reason);
      const finding = (this.dataQuality[field] ??= { rows: 0, byReason: {} });
      finding.rows++;
      increment(finding.byReason, result.reason);
    }
    if (!this.start.exchangesFromAuditRows) this.countExchanges(result);
  }

  /**
   * Counts the exchanges of one audit CSV row (audit-writer.ts), for a builder whose exchanges
   * come from the audit rows: every attempt's, an interrupted chunk's too, as the audit CSV lists them.
   */
  addAuditRow(row: AuditRow): void {
    if (this.start.exchangesFromAuditRows) this.countExchanges(row);
  }

  private countExchanges(row: Pick<AuditRow, 'rowNumber' | 'exchanges'>): void {
    for (const exchange of row.exchanges) {
      this.durations.add(exchange.durationMs);
      increment(this.byInteraction, exchange.interaction);
      increment(this.byResponseCode, exchange.responseCode ?? 'none');
      if (exchange.attempt > 1) {
        this.retries++;
        // A row's audit rows come together (row order): count it once however many attempts it had.
        if (this.lastRetriedRow !== row.rowNumber) this.rowsRetried++;
        this.lastRetriedRow = row.rowNumber;
      }
    }
  }

  finish(meta: SummaryFinish): BatchSummary {
    const { finishedAt, rowsPerSecond, timeZone, ...details } = meta;
    const durationSeconds = Math.max(0, (finishedAt.getTime() - this.start.startedAt.getTime()) / 1000);
    const tracedRows = TRACE_STATUSES.filter((s) => !UNTRACED_STATUSES.has(s)).reduce((n, s) => n + this.byStatus[s], 0);
    const matchedRows = [...MATCHED_STATUSES].reduce((n, s) => n + this.byStatus[s], 0);
    const mean = this.durations.mean();
    const simulated = details.simulated === true || details.provenance?.simulated === true;
    return {
      // Pipeline details first, so they can never overwrite a computed figure.
      ...details,
      label: NHS_CONFIDENTIAL_LABEL,
      ...(simulated ? { simulatedWarning: SIMULATED_LABEL, simulated: true } : {}),
      batchId: this.start.batchId,
      inputFile: this.start.inputFile,
      user: this.start.user,
      startedAt: this.start.startedAt.toISOString(),
      startedAtLocal: localTime(this.start.startedAt, timeZone),
      finishedAt: finishedAt.toISOString(),
      finishedAtLocal: localTime(finishedAt, timeZone),
      durationSeconds: round(durationSeconds, 3),
      rows: this.rows,
      tracedRows,
      byStatus: { ...this.byStatus },
      byReason: { ...this.byReason },
      rates: {
        foundOfAnswered: labelledRate(RATE_DESCRIPTIONS.foundOfAnswered, matchedRows, tracedRows),
        foundOfAllRows: labelledRate(RATE_DESCRIPTIONS.foundOfAllRows, matchedRows, this.rows),
      },
      fallbacksUsed: structuredClone(this.fallbacksUsed),
      dataQuality: structuredClone(this.dataQuality),
      flaggedRows: { ...this.flaggedRows },
      discrepancies: structuredClone(this.discrepancies),
      timings: {
        rowsPerSecond: rowsPerSecond ?? (durationSeconds > 0 ? round(this.rows / durationSeconds, 2) : null),
        exchanges: this.durations.count,
        retries: this.retries,
        rowsRetried: this.rowsRetried,
        meanExchangeMs: mean === null ? null : round(mean, 1),
        p95ExchangeMs: this.durations.percentile(95),
        maxExchangeMs: this.durations.max(),
        exchangesByInteraction: { ...this.byInteraction },
        exchangesByResponseCode: { ...this.byResponseCode },
      },
    };
  }
}

/** The summary as JSON, label first and the SIMULATED warning second, owner-only and atomic like every output. */
export async function writeSummaryJson(path: string, summary: BatchSummary): Promise<void> {
  const { label, simulatedWarning, ...rest } = summary;
  await writeFileAtomic(path, `${JSON.stringify({ label, ...(simulatedWarning ? { simulatedWarning } : {}), ...rest }, null, 2)}\n`);
}

/** The summary as a self-contained HTML page (no scripts, fonts or network), owner-only and atomic. */
export async function writeSummaryHtml(path: string, summary: BatchSummary): Promise<void> {
  await writeFileAtomic(path, renderSummaryHtml(summary));
}
