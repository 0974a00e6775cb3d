import type { CsvSink } from '../csv/output/csv-sink.js';
import { guardFormula } from '../csv/output/formula-guard.js';
import { flagLabel, flagWarning, isDqFlag } from '../domain/dq-flags.js';
import { DISCREPANCY_FIELD_LABELS } from '../domain/findings.js';
import type { CsvOptions } from '../csv/output/csv-sink.js';
import { isoDateFromPds } from '../csv/output/patient-fields.js';
import type { RelatedRows } from './duplicates.js';
import { openReportCsv, returnedNumberOf, suppliedNumberOf, type ReportRow } from './report-csv.js';

/**
 * `<name>.back-office.csv`: the back-office alert the client requirements ask for, as a file an
 * administrator works through (MSCA-DQ-01 TRCLCL-3.2.1, MSCA-DQ-03 FLGINV-7.1, MSCA-DQ-04
 * FLGINV-10.1, MSCA-DQ-06). One line per finding on a row (a row with two findings has two lines,
 * each with its own warning and related rows), in row order.
 *
 * Each line names the record the way the local system holds it: local id, the NHS numbers, and
 * the name, date of birth, sex and postcode as the file has them (FLGINV-10.1.2 asks for
 * "sufficient patient demographics and/or identifiers to aid in record identification").
 */
export const BACK_OFFICE_COLUMNS = [
  'row_number',
  'local_id',
  'supplied_nhs_number',
  'returned_nhs_number',
  'flag',
  'warning',
  'related_rows',
  'finding',
  'detail',
  'trace_status',
  'family_name',
  'given_name',
  'date_of_birth',
  'sex',
  'postcode',
] as const;

export interface BackOfficeReport {
  /** Writes a line per flag of the row; nothing for a row without flags. */
  write(row: ReportRow): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** "12; 57", with "; and more" when the list was cut (duplicates.ts MAX_RELATED_ROWS). */
export function relatedRowsText(related: RelatedRows | undefined): string {
  if (!related) return '';
  return [...related.rows.map(String), ...(related.more ? ['and more'] : [])].join('; ');
}

/** What became of a row whose supplied number PDS would not verify for its details. */
function notVerifiedDetail(row: ReportRow): string {
  const supplied = `NHS number ${suppliedNumberOf(row)} is held on PDS for a patient with other details`;
  if (row.result.status === 'not_verified') return supplied;
  const found = returnedNumberOf(row);
  return `${supplied}; a search by demographics (fallback) then gave ${row.result.status}${found ? `: ${found}` : ''}`;
}

/** What a person needs beside the warning to act on this row's finding. */
function detailOf(flag: string, row: ReportRow): string {
  switch (flag) {
    case 'demographic_discrepancy':
      return `differs from PDS in: ${row.quality.discrepancies.map((d) => DISCREPANCY_FIELD_LABELS[d.field].toLowerCase()).join(', ')}`;
    case 'not_verified_nhs_number':
      return notVerifiedDetail(row);
    case 'pds_date_of_death':
      return `PDS records a date of death: ${isoDateFromPds(row.result.patient?.dateOfDeath)}`;
    case 'invalidated_record':
      return `NHS number ${suppliedNumberOf(row)} is INVALID on PDS: do not use it`;
    case 'superseded_nhs_number':
      return `NHS number ${suppliedNumberOf(row)} was replaced by ${returnedNumberOf(row)}`;
    case 'superseded_replacement_in_file':
      return row.result.status === 'superseded'
        ? `NHS number ${suppliedNumberOf(row)} was replaced by ${returnedNumberOf(row)}, which a related row already holds`
        : `NHS number ${returnedNumberOf(row) || suppliedNumberOf(row)} is the replacement of a related row's superseded number`;
    default:
      return '';
  }
}

function line(flag: string, row: ReportRow): string[] {
  const { identity } = row;
  const cells: Record<(typeof BACK_OFFICE_COLUMNS)[number], string> = {
    row_number: String(row.rowNumber),
    local_id: guardFormula(identity.localId),
    supplied_nhs_number: suppliedNumberOf(row),
    returned_nhs_number: returnedNumberOf(row),
    flag: guardFormula(flag),
    warning: guardFormula(flagWarning(flag)),
    related_rows: relatedRowsText(isDqFlag(flag) ? row.quality.related[flag] : undefined),
    finding: guardFormula(flagLabel(flag)),
    detail: guardFormula(detailOf(flag, row)),
    trace_status: row.result.status,
    family_name: guardFormula(identity.familyName),
    given_name: guardFormula(identity.givenName),
    date_of_birth: guardFormula(identity.dateOfBirth),
    sex: guardFormula(identity.sex),
    postcode: guardFormula(identity.postcode),
  };
  return BACK_OFFICE_COLUMNS.map((column) => cells[column]);
}

export async function openBackOfficeReport(path: string, options: CsvOptions = {}): Promise<BackOfficeReport> {
  const sink: CsvSink = await openReportCsv(path, BACK_OFFICE_COLUMNS, options);
  return {
    async write(row) {
      for (const flag of row.quality.flags) await sink.write(line(flag, row));
    },
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
}
