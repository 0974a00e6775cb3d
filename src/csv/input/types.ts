/**
 * The shapes of CSV input shared by the readers in this folder and re-exported by
 * `src/csv/read-input.ts`, the one entry point the pipeline uses.
 */
import type { PatientQuery } from '../../domain/demographics.js';
import type { ReasonCode } from '../../domain/reasons.js';

export type FieldName =
  | 'nhsNumber'
  | 'familyName'
  | 'givenName'
  | 'dateOfBirth'
  | 'sex'
  | 'postcode'
  | 'localId'
  | 'address1'
  | 'address2'
  | 'address3'
  | 'address4'
  | 'address5';

export const FIELD_NAMES: readonly FieldName[] = [
  'nhsNumber',
  'familyName',
  'givenName',
  'dateOfBirth',
  'sex',
  'postcode',
  'localId',
  'address1',
  'address2',
  'address3',
  'address4',
  'address5',
];

/** How people call each field in messages. */
export const FIELD_LABELS: Readonly<Record<FieldName, string>> = {
  nhsNumber: 'NHS number',
  familyName: 'family name',
  givenName: 'given name',
  dateOfBirth: 'date of birth',
  sex: 'sex',
  postcode: 'postcode',
  localId: 'local id',
  address1: 'address line 1',
  address2: 'address line 2',
  address3: 'address line 3',
  address4: 'address line 4',
  address5: 'address line 5',
};

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';
export type Delimiter = ',' | ';' | '\t';
export type FieldColumns = Partial<Record<FieldName, number>>;

export interface InputOptions {
  /**
   * `--mapping`: a file naming the column for each field, as JSON
   * (`{ "nhsNumber": "NHS No", "dateOfBirth": 3, "header": false }`) or as `field = Column Header`
   * lines (`#` starts a comment; `header = none` says the file has no header row, and columns are
   * then given by 1-based position). See `input/mapping-file.ts`.
   */
  mappingFile?: string;
  /** Whether ambiguous slash/dash/dot dates are day-first. Default true (UK): 03/04/2001 is 3 April. */
  dayFirst?: boolean;
  /** Largest record, in UTF-8 bytes, before it is reported as `record_too_large`. Default 8 MiB (read-input.ts). */
  maxRecordBytes?: number;
  /** "Today" for the date-of-birth-in-the-future check. Default: the clock at `openInput`. */
  today?: Date;
  /**
   * Flag rows whose local id an earlier row used (`duplicate_local_id`). Default true. It holds up
   * to 16 bytes per row while the rows are read (local-id-set.ts), 16 MB for a million rows, so a
   * reader that never looks at `flags` turns it off.
   */
  flagDuplicateLocalIds?: boolean;
  /** Rows the file holds, when known (a batch's count from ingest): sizes that check's table once. */
  expectedRows?: number;
}

export interface InputLayout {
  kind: 'header' | 'mapping' | 'mesh';
  encoding: TextEncoding;
  bom: boolean;
  delimiter: Delimiter;
  /** Original header cells; for MESH, the descriptive names of the positional columns. */
  headers: string[];
  /** Column index per field. */
  fields: FieldColumns;
  /** Findings about the whole file that do not stop it, e.g. unrecognised columns kept but unused. */
  warnings: string[];
}

export interface RowProblem {
  reason: ReasonCode;
  field?: FieldName;
  /** Names the field and its column, never the value (no patient data in messages). */
  message: string;
}

export interface InputRow {
  /** 1-based among data rows, in input order; header and MESH control line excluded. */
  rowNumber: number;
  /** Physical line where the record started (for people fixing the file). */
  line: number;
  /** The original cells, decoded, untouched (for echoing into the results). */
  cells: string[];
  /** Normalised, when the row is valid. */
  query?: PatientQuery;
  /** Set ⇒ status invalid_input. */
  problem?: RowProblem;
  /** Non-fatal findings, e.g. 'duplicate_local_id'. */
  flags: string[];
}

export interface InputFile {
  layout: InputLayout;
  rows: AsyncIterable<InputRow>;
}
