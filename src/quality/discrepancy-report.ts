import type { CsvOptions, CsvSink } from '../csv/output/csv-sink.js';
import { guardFormula } from '../csv/output/formula-guard.js';
import { openReportCsv, returnedNumberOf, suppliedNumberOf, type ReportRow } from './report-csv.js';

/**
 * `<name>.discrepancies.csv`: every difference between a traced row's local details and PDS, one
 * line per field (MSCA-DQ-06), so the back office can correct local records field by field. The
 * PDS NHS number is the record compared with (the replacement, for a superseded number).
 */
export const DISCREPANCY_REPORT_COLUMNS = [
  'row_number',
  'local_id',
  'supplied_nhs_number',
  'pds_nhs_number',
  'field',
  'local_value',
  'pds_value',
] as const;

export interface DiscrepancyReport {
  /** Writes a line per difference of the row; nothing for a row without any. */
  write(row: ReportRow): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export async function openDiscrepancyReport(path: string, options: CsvOptions = {}): Promise<DiscrepancyReport> {
  const sink: CsvSink = await openReportCsv(path, DISCREPANCY_REPORT_COLUMNS, options);
  return {
    async write(row) {
      for (const difference of row.quality.discrepancies) {
        await sink.write([
          String(row.rowNumber),
          guardFormula(row.identity.localId),
          suppliedNumberOf(row),
          returnedNumberOf(row),
          difference.field,
          guardFormula(difference.local ?? ''),
          guardFormula(difference.pds ?? ''),
        ]);
      }
    },
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
}
