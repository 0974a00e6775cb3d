import { openCsvSink, type CsvSink } from '../csv/output/csv-sink.js';
import { NHS_CONFIDENTIAL_LABEL } from '../csv/output/confidential-label.js';
import { guardFormula } from '../csv/output/formula-guard.js';
import { formatNhsNumberForDisplay } from '../domain/nhs-number.js';
import type { RowResult } from '../domain/row-result.js';
import type { LocalIdentity } from './local-record.js';
import type { RowQuality } from './row-quality.js';

/**
 * The data-quality reports are CSV for people in the back office rather than for machines, so:
 * - the first line is the protective marking (MSCA-IG-04, confidential-label.ts), alone in its
 *   cell, then the column names, then the records (readers skip one line: csv-parse `from_line: 2`);
 * - NHS numbers are in 3-3-4 form (MSCA-PDS-06: "on all screens and printed material"), which
 *   also keeps a spreadsheet from reading them as numbers and mangling them; the results file,
 *   for machines, keeps ten digits;
 * - every value from the file or PDS goes through the formula guard.
 * Atomic and owner-only like every output (openCsvSink).
 */
export async function openReportCsv(path: string, columns: readonly string[], options: { bom?: boolean } = {}): Promise<CsvSink> {
  const sink = await openCsvSink(path, { bom: options.bom ?? false });
  try {
    await sink.write([NHS_CONFIDENTIAL_LABEL]);
    await sink.write(columns);
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return sink;
}

/** A ten-digit NHS number in 3-3-4 form; anything else (a damaged cell as the file holds it) guarded as text. */
export function reportNhsNumber(value: string | undefined): string {
  return guardFormula(formatNhsNumberForDisplay(value ?? ''));
}

/** One row as the reports need it. */
export interface ReportRow {
  rowNumber: number;
  /** The file's own values, for finding the local record. */
  identity: LocalIdentity;
  /** The NHS number the row supplied, normalised, when it was valid. */
  suppliedNhsNumber?: string;
  result: RowResult;
  quality: RowQuality;
}

/** The supplied number: normalised when valid, else the cell as the file holds it. */
export function suppliedNumberOf(row: ReportRow): string {
  return reportNhsNumber(row.suppliedNhsNumber ?? row.identity.nhsNumber);
}

/** The number PDS returned for the row (the replacement for a superseded one). */
export function returnedNumberOf(row: ReportRow): string {
  return reportNhsNumber(row.result.nhsNumber ?? row.result.patient?.nhsNumber);
}
