import { readFile } from 'node:fs/promises';
import { DATA_QUALITY_FIELD_LABELS, type DataQualityField } from '../csv/output/data-quality.js';
import type { BatchSummary, LabelledRate } from '../csv/output/summary.js';
import { flagLabel } from '../domain/dq-flags.js';
import { DISCREPANCY_FIELD_LABELS, type DiscrepancyField } from '../domain/findings.js';
import { reasonMessage } from '../domain/reasons.js';
import type { BatchMeta } from '../pipeline/batch.js';

/**
 * What a finished batch found, for its page: the labelled rates, the data-quality findings and the
 * differences from PDS, read from the summary JSON the pipeline wrote (the figures the summary's own
 * web page and `pds-trace status` give), as counts: no patient data.
 */

export interface ResultsView {
  rates: Array<{ description: string; count: number; outOf: number; percent: string }>;
  /** Rows rejected per input field, with their reasons in words. */
  rejectedByField: Array<{ field: string; rows: number; reasons: Array<{ reason: string; rows: number }> }>;
  /** Rows per data-quality flag raised, flags with none left out. */
  flagged: Array<{ flag: string; rows: number }>;
  discrepancies: { rows: number; byField: Array<{ field: string; rows: number }> };
  durationSeconds: number;
  rowsPerSecond: number | null;
}

function rateRow(rate: LabelledRate) {
  return { description: rate.description, count: rate.count, outOf: rate.outOf, percent: rate.rate === null ? 'n/a' : `${(rate.rate * 100).toFixed(1)}%` };
}

/** The findings of a finished batch; undefined before it is done, or if its summary is unreadable. */
export async function resultsView(meta: BatchMeta): Promise<ResultsView | undefined> {
  if (meta.state !== 'assembled' || !meta.outputs) return undefined;
  let summary: BatchSummary;
  try {
    summary = JSON.parse(await readFile(meta.outputs.summaryJson, 'utf8')) as BatchSummary;
  } catch {
    return undefined;
  }
  const nonZero = <K extends string>(counts: Partial<Record<K, number>>) => (Object.entries(counts) as Array<[K, number]>).filter(([, n]) => n > 0);
  return {
    rates: [rateRow(summary.rates.foundOfAnswered), rateRow(summary.rates.foundOfAllRows)],
    rejectedByField: (Object.entries(summary.dataQuality) as Array<[DataQualityField, { rows: number; byReason: Record<string, number> }]>).map(([field, finding]) => ({
      field: DATA_QUALITY_FIELD_LABELS[field] ?? field,
      rows: finding.rows,
      reasons: nonZero(finding.byReason).map(([reason, rows]) => ({ reason: reasonMessage(reason), rows })),
    })),
    flagged: nonZero(summary.flaggedRows).map(([flag, rows]) => ({ flag: flagLabel(flag), rows })),
    discrepancies: {
      rows: summary.discrepancies.rows,
      byField: nonZero(summary.discrepancies.byField).map(([field, rows]) => ({ field: DISCREPANCY_FIELD_LABELS[field as DiscrepancyField] ?? field, rows })),
    },
    durationSeconds: summary.durationSeconds,
    rowsPerSecond: summary.timings.rowsPerSecond,
  };
}
