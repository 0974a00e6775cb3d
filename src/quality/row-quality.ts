import type { DateOptions } from '../csv/input/normalise/date.js';
import type { InputRow } from '../csv/input/types.js';
import type { RowResult } from '../domain/row-result.js';
import type { Discrepancy } from '../domain/findings.js';
import { compareWithPds } from './discrepancies.js';
import { rowNhsNumbers, type NhsNumberIndex, type RelatedRows } from './duplicates.js';
import { orderFlags, type DqFlag } from '../domain/dq-flags.js';
import { localDemographics, type LocalColumns } from './local-record.js';

/** What the data-quality checks found about one row, for the results, the reports and the summary. */
export interface RowQuality {
  /** The input reader's flags and the findings below, in table order (flags.ts), each once. */
  flags: string[];
  /** Differences from the PDS record returned for the row; empty when PDS returned none. */
  discrepancies: Discrepancy[];
  /** The other rows a duplicate or merge-review finding is about. */
  related: Partial<Record<DqFlag, RelatedRows>>;
}

export interface QualityContext {
  /** Sealed after the first pass over the batch. */
  index: NhsNumberIndex;
  columns: LocalColumns;
  /** How the file's dates are read (for a local date of death). */
  dates: DateOptions;
}

export function assessRow(row: InputRow, result: RowResult, context: QualityContext): RowQuality {
  const flags: string[] = [...row.flags];
  const related: RowQuality['related'] = {};
  const findings = context.index.findings(row.rowNumber, rowNhsNumbers(row.query, result));
  if (findings.duplicate) {
    flags.push('duplicate_nhs_number');
    related.duplicate_nhs_number = findings.duplicate;
  }
  // FLGINV-6 / FLGINV-7: replace the superseded number only when no other record holds the
  // replacement; otherwise refer both for a merge. The two advices exclude each other.
  if (findings.mergeReview) {
    flags.push('superseded_replacement_in_file');
    related.superseded_replacement_in_file = findings.mergeReview;
  } else if (result.status === 'superseded') {
    flags.push('superseded_nhs_number');
  }
  if (result.status === 'invalidated') flags.push('invalidated_record');
  // Not verified, whether or not a search then found someone: the supplied number is held for
  // another patient's details, and the local record still carries it.
  if (result.status === 'not_verified' || result.fallbacks?.includes('search_when_not_verified')) flags.push('not_verified_nhs_number');
  // A death PDS records is a finding of its own when the file has no date of death to compare:
  // a field the input did not have is never a difference from PDS.
  if (result.patient?.dateOfDeath && context.columns.dateOfDeath === undefined) flags.push('pds_date_of_death');
  const discrepancies = result.patient ? compareWithPds(localDemographics(row, context.columns, context.dates), result.patient) : [];
  if (discrepancies.length > 0) flags.push('demographic_discrepancy');
  return { flags: orderFlags(flags), discrepancies, related };
}
