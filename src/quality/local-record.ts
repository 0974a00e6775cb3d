import { headerWords } from '../csv/input/header-words.js';
import { normaliseDateOfBirth, type DateOptions } from '../csv/input/normalise/date.js';
import { isBlankCode } from '../csv/input/normalise/field-result.js';
import type { FieldColumns, FieldName, InputRow } from '../csv/input/types.js';
import type { LocalDemographics } from './discrepancies.js';

/**
 * What the input file holds about a row's patient, for comparing with PDS and for naming the row
 * to the back office. The input reader maps the fields pds-trace traces with; date of death and GP
 * practice are not among them, so their columns are found here from the headers (the PDS MESH
 * request layout has both, `DATE_OF_DEATH` and `GP_PRACTICE_CODE`, batch-formats.md §3.1).
 */

const ADDRESS_FIELDS: readonly FieldName[] = ['address1', 'address2', 'address3', 'address4', 'address5'];

/** Words that make a "practice" header about something other than the practice's code. */
const NOT_A_PRACTICE_CODE = new Set(['name', 'address', 'telephone', 'phone', 'email', 'registration', 'date', 'postcode']);

export interface LocalColumns {
  fields: FieldColumns;
  /** Mapped address columns, in line order; empty when the file has none. */
  address: number[];
  dateOfDeath?: number;
  gpPractice?: number;
}

function isDateOfDeath(words: readonly string[]): boolean {
  return words.includes('death') && (words.includes('date') || words.length === 1);
}

function isGpPractice(words: readonly string[]): boolean {
  if (words.some((w) => NOT_A_PRACTICE_CODE.has(w))) return false;
  if (words.includes('practice')) return true;
  return words.includes('gp') && words.every((w) => ['gp', 'code', 'registered', 'id'].includes(w));
}

/** The columns of a layout holding each local detail. The first matching unmapped column wins. */
export function localColumns(layout: { headers: readonly string[]; fields: FieldColumns }): LocalColumns {
  const mapped = new Set(Object.values(layout.fields));
  const columns: LocalColumns = {
    fields: layout.fields,
    address: ADDRESS_FIELDS.map((field) => layout.fields[field]).filter((c): c is number => c !== undefined),
  };
  layout.headers.forEach((header, index) => {
    if (mapped.has(index)) return;
    const words = headerWords(header);
    if (columns.dateOfDeath === undefined && isDateOfDeath(words)) columns.dateOfDeath = index;
    else if (columns.gpPractice === undefined && isGpPractice(words)) columns.gpPractice = index;
  });
  return columns;
}

/** A cell by column, trimmed; undefined when the layout has no such column. */
export function cellAt(row: Pick<InputRow, 'cells'>, column: number | undefined): string | undefined {
  return column === undefined ? undefined : (row.cells[column] ?? '').trim();
}

/** A coded cell with a database's "no value" (`NULL`, `N/A`) read as empty. */
function codedCell(row: InputRow, column: number | undefined): string | undefined {
  const cell = cellAt(row, column);
  if (cell === undefined) return undefined;
  return isBlankCode(cell) ? '' : cell;
}

function dateOfDeathOf(row: InputRow, columns: LocalColumns, dates: DateOptions): string | undefined {
  const cell = codedCell(row, columns.dateOfDeath);
  if (!cell) return cell;
  const parsed = normaliseDateOfBirth(cell, dates);
  // A cell that is not a date is still a local claim that the patient died: keep its text.
  return parsed.kind === 'value' ? parsed.value : cell;
}

/** The row's local details, from its normalised query (when valid) and the columns the query lacks. */
export function localDemographics(row: InputRow, columns: LocalColumns, dates: DateOptions): LocalDemographics {
  const query = row.query;
  const local: LocalDemographics = {};
  if (query?.familyName !== undefined) local.familyName = query.familyName;
  if (query?.givenName !== undefined) local.givenName = query.givenName;
  if (query?.dateOfBirth !== undefined) local.dateOfBirth = query.dateOfBirth;
  if (query?.sex !== undefined) local.sex = query.sex;
  if (query?.postcode !== undefined) local.postcode = query.postcode;
  if (columns.address.length > 0) local.addressLines = columns.address.map((c) => cellAt(row, c) ?? '');
  const dateOfDeath = dateOfDeathOf(row, columns, dates);
  if (dateOfDeath !== undefined) local.dateOfDeath = dateOfDeath;
  const gpPracticeCode = codedCell(row, columns.gpPractice);
  if (gpPracticeCode !== undefined) local.gpPracticeCode = gpPracticeCode;
  return local;
}

/** How the back office finds the row's record: the file's own values, as the local system holds them. */
export interface LocalIdentity {
  localId: string;
  nhsNumber: string;
  familyName: string;
  givenName: string;
  dateOfBirth: string;
  sex: string;
  postcode: string;
}

export function localIdentity(row: InputRow, columns: LocalColumns): LocalIdentity {
  const cell = (field: FieldName) => cellAt(row, columns.fields[field]) ?? '';
  return {
    localId: cell('localId'),
    nhsNumber: cell('nhsNumber'),
    familyName: cell('familyName'),
    givenName: cell('givenName'),
    dateOfBirth: cell('dateOfBirth'),
    sex: cell('sex'),
    postcode: cell('postcode'),
  };
}
