/**
 * Which layout a file uses, decided from its first records: an explicit `--mapping`, the PDS MESH
 * request layout (control line, or MESH column names), or a header row matched on its words.
 * A file with data whose columns cannot be mapped is rejected here, before any row is read; so is
 * a file with no data rows at all (`no_rows`: empty, a BOM, blank lines, or only a header or MESH
 * control line), because a batch of nothing is almost always the wrong file or a failed export, and
 * finishing it "successfully" with empty outputs hides that. Whether a header is usable matters
 * less than that, so a header-only file is `no_rows` whatever its columns.
 */
import { matchColumns, missingTraceFields } from './column-mapping.js';
import { InputFileError } from './input-file-error.js';
import { describeColumns, resolveMapping, type MappingSpec } from './mapping-file.js';
import { controlLineWarnings, isMeshHeaderRow, MESH_FIELDS, meshColumnsFor, parseControlLine, type MeshControlLine } from './mesh-layout.js';
import { normaliseDateOfBirth } from './normalise/date.js';
import { normaliseNhsNumber } from './normalise/nhs-number.js';
import { normalisePostcode } from './normalise/postcode.js';
import type { RawRecord } from './record-reader.js';
import { FIELD_LABELS, type FieldColumns, type FieldName, type InputLayout } from './types.js';

/** How many leading records `planLayout` needs: a MESH control line, a column-name row, one data row. */
export const LAYOUT_RECORDS = 3;

export interface LayoutPlan {
  kind: InputLayout['kind'];
  headers: string[];
  fields: FieldColumns;
  warnings: string[];
  /** Records before the first data row (header row, MESH control line). */
  headerRecords: number;
  /** Cells a data row may have; outside this range it is ragged. */
  cells: { min: number; max: number };
  meshControl?: MeshControlLine;
}

export function planLayout(first: readonly RawRecord[], mapping: MappingSpec | undefined): LayoutPlan {
  if (first.length === 0) throw new InputFileError('no_rows', 'The file has no data rows: it is empty, or holds only a byte order mark or blank lines.');
  const plan = layoutOf(first, mapping);
  if (first.length <= plan.headerRecords) throw headerOnly(plan.headers);
  return plan;
}

function layoutOf(first: readonly RawRecord[], mapping: MappingSpec | undefined): LayoutPlan {
  const firstCells = first[0]!.cells;
  if (mapping) return mappingPlan(first, mapping);

  const control = parseControlLine(firstCells);
  if (control) {
    const named = first[1] !== undefined && isMeshHeaderRow(first[1].cells);
    const headers = named ? first[1]!.cells : [...meshColumnsFor(first[1]?.cells.length ?? 0)];
    return { kind: 'mesh', headers, fields: { ...MESH_FIELDS }, warnings: controlLineWarnings(control), headerRecords: named ? 2 : 1, cells: exactly(headers.length), meshControl: control };
  }
  if (isMeshHeaderRow(firstCells)) {
    return { kind: 'mesh', headers: firstCells, fields: { ...MESH_FIELDS }, warnings: ['the PDS MESH column names are present but the control line is not'], headerRecords: 1, cells: exactly(firstCells.length) };
  }
  return headerPlan(first);
}

function headerPlan(first: readonly RawRecord[]): LayoutPlan {
  const headers = first[0]!.cells;
  const hasData = first.length > 1;
  const { fields, warnings, ambiguous } = matchColumns(headers);
  const missing = missingTraceFields(fields);
  if (ambiguous.length === 0 && missing.length === 0) return { kind: 'header', headers, fields, warnings, headerRecords: 1, cells: headerCells(headers) };

  if (looksLikeData(headers)) {
    // The "header" is a patient's row, so it is a row to trace, not a header to drop; and the
    // message lists no cells (no patient data in messages).
    throw new InputFileError(
      'columns_not_mapped',
      `The first row looks like data rather than column names (${headers.length} columns). Give a --mapping file with "header = none" and the position of each field.`,
      { found: [], missing: missing.length > 0 ? missing : ambiguous.map((a) => a.field) },
    );
  }
  if (ambiguous.length > 0) {
    const detail = ambiguous.map((a) => `${labelOf(a.field)} could be any of ${a.columns.map((c) => `"${c}"`).join(', ')}`).join('; ');
    if (!hasData) throw headerOnly(headers);
    throw new InputFileError('columns_ambiguous', `More than one column could hold the same field: ${detail}. Name the right column with --mapping.`, { found: [...headers], missing: ambiguous.map((a) => a.field), ambiguous });
  }
  if (!hasData) throw headerOnly(headers);
  throw new InputFileError(
    'columns_not_mapped',
    `The columns needed to trace were not found: missing ${missing.map(labelOf).join(', ')} (a row needs a date of birth, and an NHS number or a family name and sex). Columns found: ${describeColumns(headers)}. Rename them or name them with --mapping.`,
    { found: [...headers], missing },
  );
}

function mappingPlan(first: readonly RawRecord[], mapping: MappingSpec): LayoutPlan {
  const firstCells = first[0]!.cells;
  const headers = mapping.hasHeader ? firstCells : firstCells.map((_, i) => `column ${i + 1}`);
  const headerRecords = mapping.hasHeader ? 1 : 0;
  const hasData = first.length > headerRecords;
  let fields: FieldColumns;
  try {
    fields = resolveMapping(mapping, headers);
  } catch (err) {
    if (err instanceof InputFileError && !hasData) throw headerOnly(headers);
    throw err;
  }
  const missing = missingTraceFields(fields);
  if (missing.length > 0) {
    if (!hasData) throw headerOnly(headers);
    throw new InputFileError(
      'columns_not_mapped',
      `The --mapping file does not name enough fields to trace: missing ${missing.map(labelOf).join(', ')} (a row needs a date of birth, and an NHS number or a family name and sex). Columns found: ${mapping.hasHeader ? describeColumns(headers) : `${headers.length} unnamed`}.`,
      { found: mapping.hasHeader ? [...headers] : [], missing },
    );
  }
  const cells = mapping.hasHeader ? headerCells(headers) : exactly(headers.length);
  return { kind: 'mapping', headers, fields, warnings: [], headerRecords, cells };
}

/** Names how many columns the header has, never its cells (a "header" may be a patient's row). */
function headerOnly(headers: readonly string[]): InputFileError {
  return new InputFileError('no_rows', `The file has no data rows: only a header or control line (${headers.length} columns).`);
}

function exactly(n: number): { min: number; max: number } {
  return { min: n, max: n };
}

/**
 * Trailing header cells with no name (a spreadsheet's stray empty columns) may be missing from
 * a row without losing anything; any other difference in width means cells may have shifted.
 */
function headerCells(headers: readonly string[]): { min: number; max: number } {
  let named = headers.length;
  while (named > 1 && headers[named - 1]!.trim() === '') named--;
  return { min: named, max: headers.length };
}

function looksLikeData(cells: readonly string[]): boolean {
  const today = new Date();
  return cells.some(
    (c) =>
      normaliseNhsNumber(c).kind === 'value' ||
      normalisePostcode(c).kind === 'value' ||
      (/\d/.test(c) && normaliseDateOfBirth(c, { dayFirst: true, today }).kind === 'value'),
  );
}

function labelOf(field: string): string {
  return FIELD_LABELS[field as FieldName] ?? field;
}
