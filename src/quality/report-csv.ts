import { openCsvSink, type CsvOptions, type CsvSink } from '../csv/output/csv-sink.js';
import { NHS_CONFIDENTIAL_LABEL } from '../csv/output/confidential-label.js';
import { guardFormula } from '../csv/output/formula-guard.js';
import { formatNhsNumberForDisplay } from '../domain/nhs-number.js';
import type { RowResult } from '../domain/row-result.js';
import type { LocalIdentity } from './local-record.js';
import type { RowQuality } from './row-quality.js';

/**
 * The data-quality reports are CSV for people in the back office, read by machines too, so:
 * - the first line is the column names, then the records: a plain CSV every reader takes as it
 *   is. The protective marking (MSCA-IG-04, confidential-label.ts) once sat on a line above the
 *   names, and Python's csv and pandas took it for the header; it is now the last column,
 *   `protective_marking`, on every record, where a person scrolling a printed or opened report
 *   still sees it and a program reads one more column;
 * - NHS numbers are in 3-3-4 form (MSCA-PDS-06: "on all screens and printed material"), which
 *   also keeps a spreadsheet from reading them as numbers and mangling them; the results file,
 *   for machines, keeps ten digits;
 * - every value from the file or PDS goes through the formula guard.
 * Atomic and owner-only like every output (openCsvSink).
 */
export async function openReportCsv(path: string, columns: readonly string[], options: CsvOptions = {}): Promise<CsvSink> {
  const sink = await openCsvSink(path, options);
  try {
    await sink.write([...columns, PROTECTIVE_MARKING_COLUMN]);
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return { ...sink, write: (record) => sink.write([...record, NHS_CONFIDENTIAL_LABEL]) };
}

/** The reports' last column: the protective marking, on every record. */
export const PROTECTIVE_MARKING_COLUMN = 'protective_marking';

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
