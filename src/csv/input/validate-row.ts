/**
 * One data row's cells to a normalised PatientQuery, or the first problem that stops it being
 * traced. This is about the file's data (present, parseable, plausible); the per-interaction rules
 * stay with the SMSP client's local checks, which use the same reason codes.
 *
 * A row can be traced with a valid NHS number and a date of birth (cross-check), or with a family
 * name, sex and date of birth (demographic search). A field that is present but wrong makes the row
 * invalid even when the rest would suffice: an NHS number failing Modulus 11 is reported, never
 * quietly dropped in favour of a demographic search.
 */
import type { PatientQuery, SexCode } from '../../domain/demographics.js';
import { reasonMessage, type ReasonCode } from '../../domain/reasons.js';
import { normaliseDateOfBirth } from './normalise/date.js';
import type { FieldResult } from './normalise/field-result.js';
import { normaliseName } from './normalise/name.js';
import { normaliseNhsNumber } from './normalise/nhs-number.js';
import { normalisePostcode } from './normalise/postcode.js';
import { normaliseSex } from './normalise/sex.js';
import { FIELD_LABELS, type FieldColumns, type FieldName, type RowProblem } from './types.js';

export interface RowContext {
  fields: FieldColumns;
  headers: readonly string[];
  dayFirst: boolean;
  today: Date;
}

export interface RowVerdict {
  query?: PatientQuery;
  problem?: RowProblem;
  flags: string[];
}

type QueryField = 'nhsNumber' | 'dateOfBirth' | 'familyName' | 'givenName' | 'sex' | 'postcode';

/** In the order problems are reported when a row has several. */
const NORMALISERS: readonly [QueryField, (raw: string, ctx: RowContext) => FieldResult<string>][] = [
  ['nhsNumber', (raw) => normaliseNhsNumber(raw)],
  ['dateOfBirth', (raw, ctx) => normaliseDateOfBirth(raw, ctx)],
  ['familyName', (raw) => normaliseName(raw)],
  ['givenName', (raw) => normaliseName(raw)],
  ['sex', (raw) => normaliseSex(raw)],
  ['postcode', (raw) => normalisePostcode(raw)],
];

export function validateRow(cells: readonly string[], ctx: RowContext): RowVerdict {
  const flags: string[] = [];
  const values: Partial<Record<QueryField, string>> = {};
  for (const [field, normalise] of NORMALISERS) {
    const raw = cellOf(cells, ctx.fields, field);
    if (raw === undefined) continue;
    const result = normalise(raw, ctx);
    if (result.kind === 'problem') return { problem: fieldProblem(field, result.reason, ctx, result.detail), flags };
    if (result.kind === 'value') {
      values[field] = result.value;
      if (result.flag) flags.push(result.flag);
    }
  }

  if (values.dateOfBirth === undefined) return { problem: fieldProblem('dateOfBirth', 'missing_date_of_birth', ctx, 'the date of birth is empty'), flags };
  if (values.nhsNumber === undefined) {
    const needs = 'a row needs an NHS number, or a family name and sex, with the date of birth';
    if (values.familyName === undefined) return { problem: fieldProblem('familyName', 'missing_family_name', ctx, `there is no NHS number and no family name: ${needs}`), flags };
    if (values.sex === undefined) return { problem: fieldProblem('sex', 'missing_sex', ctx, `there is no NHS number and no sex: ${needs}`), flags };
  }

  const query: PatientQuery = { dateOfBirth: values.dateOfBirth };
  if (values.nhsNumber !== undefined) query.nhsNumber = values.nhsNumber;
  if (values.familyName !== undefined) query.familyName = values.familyName;
  if (values.givenName !== undefined) query.givenName = values.givenName;
  if (values.sex !== undefined) query.sex = values.sex as SexCode; // normaliseSex yields only SexCode
  if (values.postcode !== undefined) query.postcode = values.postcode;
  const localId = localIdOf(cells, ctx.fields);
  if (localId !== undefined) query.localId = localId;
  return { query, flags };
}

/** The local id as the file holds it, trimmed; used for the query and for duplicate detection. */
export function localIdOf(cells: readonly string[], fields: FieldColumns): string | undefined {
  const raw = cellOf(cells, fields, 'localId')?.trim();
  return raw ? raw : undefined;
}

function cellOf(cells: readonly string[], fields: FieldColumns, field: FieldName): string | undefined {
  const column = fields[field];
  return column === undefined ? undefined : cells[column];
}

/** "date of birth (column "DOB"): …" — names the field and its column, never the value. */
function fieldProblem(field: FieldName, reason: ReasonCode, ctx: RowContext, detail?: string): RowProblem {
  const column = ctx.fields[field];
  const where = column === undefined ? '' : ` (column "${ctx.headers[column] ?? column + 1}")`;
  return { reason, field, message: `${FIELD_LABELS[field]}${where}: ${detail ?? reasonMessage(reason)}` };
}
