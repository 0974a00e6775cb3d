import { reasonMessage } from './reasons.js';

/**
 * The closed set of data-quality flags a results row can carry, with the warning each one gives a
 * person and the NHS requirement behind it: one table, used by the results file, the back-office
 * report and the summary. The texts follow the advisory wording the PDS Spine Mini Service client
 * requirements ask for (HSCIC-ITK-ARCH-301 §5–6, shared/smsp/SPEC.md §6.1 "Client obligations").
 *
 * A superseded row carries exactly one of `superseded_nhs_number` (replace the number locally,
 * FLGINV-6) and `superseded_replacement_in_file` (do not: another row already holds the
 * replacement, refer both for a merge, FLGINV-7); the two advices contradict each other.
 */

/** Shared by the three warnings that FLGINV-7.4.1, 7.4.2, 9.1 and 9.2 ask to show on every access. */
const CAUTION =
  'All demographic and clinical information for this patient must be regarded with caution until the processing is complete: ' +
  'the record has data anomalies that could constitute a clinical risk, and they may pertain as much to the clinical as to the demographic record.';

export const DQ_FLAGS = {
  // First: the riskiest finding of all. A number that PDS holds for someone else, used as this
  // patient's, would file one person's care under another's record.
  not_verified_nhs_number: {
    requirement: 'MSCA-DQ-01 (TRCLCL-3.2); SPEC §7 DEMOG-0040',
    label: 'NHS number not verified: it may belong to someone else',
    warning:
      'PDS holds the supplied NHS number, but not for a patient with these details: the number may belong to another person. ' +
      'Do not use it for this patient until the back office has checked the local record (name, date of birth) and confirmed the right NHS number.',
  },
  duplicate_nhs_number: {
    requirement: 'MSCA-DQ-01 (TRCLCL-3.2, FLGGEN-2.2)',
    label: 'Duplicate NHS number in the file',
    warning:
      'Another row of this file holds the same NHS number (see related rows). Duplicate NHS numbers must not be used: ' +
      'the records are referred to the back office to investigate and merge or correct them.',
  },
  superseded_nhs_number: {
    requirement: 'MSCA-DQ-03 (FLGINV-5, FLGINV-6)',
    label: 'NHS number replaced by a merge',
    warning:
      'The NHS number being used has been replaced on PDS by a merge; the replacement is the traced NHS number of this row. ' +
      'Replace the local number with it, and inform the patient of the replacement number where possible.',
  },
  superseded_replacement_in_file: {
    requirement: 'MSCA-DQ-03 (FLGINV-7)',
    label: 'Superseded number whose replacement is already in the file: merge review',
    warning:
      'Two or more rows of this file are the same patient: one holds an NHS number that PDS superseded by a merge, and another already holds the replacement (see related rows). ' +
      'Do not replace the superseded number automatically: the records are referred to the back office for a manual merge. ' +
      `The NHS number being used may no longer be valid. ${CAUTION}`,
  },
  invalidated_record: {
    requirement: 'MSCA-DQ-04 (FLGINV-9, FLGINV-10)',
    label: 'Invalidated NHS number',
    warning:
      'The NHS number being used is no longer valid: PDS has invalidated it and gives no replacement, so the local record is wrongly identified. ' +
      `The record is being referred to the back office for processing. ${CAUTION}`,
  },
  pds_date_of_death: {
    requirement: 'MSCA-DQ-06',
    label: 'PDS records a date of death',
    warning:
      'PDS records a date of death for this patient, and the file has no date of death to compare it with. ' +
      'Check the local record: the patient may have died since it was last updated.',
  },
  demographic_discrepancy: {
    requirement: 'MSCA-DQ-06',
    label: 'Local details differ from PDS',
    warning:
      'The local details differ from PDS in the fields listed. The back office should check them and correct the local record; ' +
      'SMSP cannot update PDS, so where PDS is believed wrong it must be corrected through full PDS access.',
  },
  duplicate_local_id: {
    requirement: 'MSCA-DQ-01 (FLGGEN-3)',
    label: 'Duplicate local identifier in the file',
    warning: 'The local identifier also appears on an earlier row of this file: check for a duplicate local record.',
  },
  date_of_birth_excel_serial: {
    requirement: 'MSCA-DQ-05',
    label: 'Date of birth read from a spreadsheet serial number',
    warning: 'The date of birth was written as a spreadsheet date serial number and read as such: check it against the local record.',
  },
} as const satisfies Record<string, { requirement: string; label: string; warning: string }>;

export type DqFlag = keyof typeof DQ_FLAGS;

/** In the order rows list them, most serious first. */
export const DQ_FLAG_ORDER = Object.keys(DQ_FLAGS) as DqFlag[];

export function isDqFlag(flag: string): flag is DqFlag {
  return Object.hasOwn(DQ_FLAGS, flag);
}

/**
 * The warning for a flag. A flag outside the table (one the CSV reader adds later) still reaches
 * the back office, worded from the reasons table or, failing that, by its own name.
 */
export function flagWarning(flag: string): string {
  return isDqFlag(flag) ? DQ_FLAGS[flag].warning : reasonMessage(flag);
}

/** Plain-English name of a flag for reports. */
export function flagLabel(flag: string): string {
  return isDqFlag(flag) ? DQ_FLAGS[flag].label : flag;
}

/** Flags in table order (unknown ones last, as found), each once. */
export function orderFlags(flags: Iterable<string>): string[] {
  const unique = [...new Set(flags)];
  const rank = (flag: string) => (isDqFlag(flag) ? DQ_FLAG_ORDER.indexOf(flag) : DQ_FLAG_ORDER.length);
  return unique.map((flag, i) => ({ flag, i })).sort((a, b) => rank(a.flag) - rank(b.flag) || a.i - b.i).map((e) => e.flag);
}
