/**
 * The `--mapping` file: the user names the column for each field, for files whose headers are
 * unusual, ambiguous, or absent. Two forms, told apart by the first non-blank character:
 *
 * JSON —
 *   { "nhsNumber": "Patient NHS", "dateOfBirth": "Birth", "familyName": "Last" }
 *   { "header": false, "nhsNumber": 1, "dateOfBirth": 4 }
 *
 * Lines — `field = column`, `#` starts a comment:
 *   nhsNumber = Patient NHS
 *   date_of_birth = Birth
 *   header = none
 *
 * Field names are those of `FieldName`, in any case, with or without `_` (`nhs_number`,
 * `DateOfBirth`). A column is its header text, or with `header` false / `none` (a file with no
 * header row) its 1-based position; a number or `#3` names a position in either case. Only the
 * fields named are mapped: an explicit mapping means nothing is guessed.
 */
import { readFile } from 'node:fs/promises';
import { InputFileError } from './input-file-error.js';
import { FIELD_NAMES, type FieldColumns, type FieldName } from './types.js';

/** A column named by header text or by 1-based position. */
export type ColumnRef = { header: string } | { position: number };

export interface MappingSpec {
  /** False when the file has no header row (the first record is data). */
  hasHeader: boolean;
  columns: Partial<Record<FieldName, ColumnRef>>;
}

export async function readMappingFile(file: string): Promise<MappingSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw invalid(`the --mapping file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseMapping(text.replace(/^\uFEFF/, ''));
}

export function parseMapping(text: string): MappingSpec {
  const entries = text.trimStart().startsWith('{') ? jsonEntries(text) : lineEntries(text);
  const spec: MappingSpec = { hasHeader: true, columns: {} };
  const refs: [string, string | number][] = [];
  for (const [key, value] of entries) {
    if (normaliseKey(key) === 'header') spec.hasHeader = headerFlag(value);
    else refs.push([key, value]);
  }
  for (const [key, value] of refs) {
    const field = FIELD_NAMES.find((f) => normaliseKey(f) === normaliseKey(key));
    if (!field) throw invalid(`the --mapping file names an unknown field "${key}"; fields are ${FIELD_NAMES.join(', ')}`);
    if (spec.columns[field]) throw invalid(`the --mapping file names the field ${field} twice`);
    spec.columns[field] = columnRef(value, spec.hasHeader, field);
  }
  if (Object.keys(spec.columns).length === 0) throw invalid('the --mapping file names no fields');
  return spec;
}

/**
 * Resolves a mapping against the file's header cells (or, for a header-less file, its width):
 * exact header text first, then the same text ignoring case, spaces and punctuation.
 */
export function resolveMapping(spec: MappingSpec, headers: readonly string[]): FieldColumns {
  const fields: FieldColumns = {};
  const notFound: string[] = [];
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  for (const [field, ref] of Object.entries(spec.columns) as [FieldName, ColumnRef][]) {
    let column: number;
    if ('position' in ref) {
      column = ref.position - 1;
      if (column >= headers.length) column = -1;
    } else {
      column = headers.indexOf(ref.header);
      if (column < 0) {
        const loose = headers.flatMap((h, i) => (squash(h) === squash(ref.header) ? [i] : []));
        column = loose.length === 1 ? loose[0]! : -1;
      }
    }
    if (column < 0) notFound.push(`${field} → ${'position' in ref ? `column ${ref.position}` : `"${ref.header}"`}`);
    else fields[field] = column;
  }
  if (notFound.length > 0) {
    throw new InputFileError(
      'columns_not_mapped',
      `the --mapping file names columns this file does not have: ${notFound.join('; ')}. Columns found: ${describeColumns(headers)}`,
      { found: [...headers], missing: notFound },
    );
  }
  return fields;
}

/** Header cells for a message: quoted, at most 40 of them. */
export function describeColumns(headers: readonly string[]): string {
  if (headers.length === 0) return 'none';
  const shown = headers.slice(0, 40).map((h) => `"${h}"`).join(', ');
  return headers.length > 40 ? `${shown} and ${headers.length - 40} more` : shown;
}

function jsonEntries(text: string): [string, string | number][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('the --mapping file starts with "{" but is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('the --mapping JSON must be an object of field → column');
  return Object.entries(parsed).map(([key, value]) => {
    if (typeof value === 'boolean' && normaliseKey(key) === 'header') return [key, String(value)];
    if (typeof value !== 'string' && typeof value !== 'number') throw invalid(`the --mapping JSON gives "${key}" a value that is neither a column name nor a number`);
    return [key, value];
  });
}

function lineEntries(text: string): [string, string][] {
  const entries: [string, string][] = [];
  text.split(/\r\n|\n|\r/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw invalid(`line ${index + 1} of the --mapping file is not "field = column"`);
    entries.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  });
  return entries;
}

function columnRef(value: string | number, hasHeader: boolean, field: FieldName): ColumnRef {
  const position = typeof value === 'number' ? value : /^#\d+$/.test(value) ? Number(value.slice(1)) : !hasHeader && /^\d+$/.test(value) ? Number(value) : undefined;
  if (position !== undefined) {
    if (!Number.isInteger(position) || position < 1) throw invalid(`the --mapping file gives ${field} a column position that is not a whole number from 1`);
    return { position };
  }
  if (!hasHeader) throw invalid(`the --mapping file says the file has no header row, so ${field} must be a column position`);
  if (String(value).trim() === '') throw invalid(`the --mapping file gives ${field} an empty column name`);
  return { header: String(value) };
}

function headerFlag(value: string | number): boolean {
  const v = String(value).trim().toLowerCase();
  if (['none', 'no', 'false', '0', 'absent'].includes(v)) return false;
  if (['yes', 'true', '1', 'present', 'first row', 'first line'].includes(v)) return true;
  throw invalid('the --mapping file\'s "header" must be none/false or yes/true');
}

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function invalid(message: string): InputFileError {
  return new InputFileError('mapping_file_invalid', message);
}
