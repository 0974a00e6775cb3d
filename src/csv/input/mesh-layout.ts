/**
 * The PDS MESH (formerly MPT) request layout, so files prepared for NHS batch tracing work
 * unchanged (batch-formats.md §3). Positional columns after a control line
 * `MPTREQ_<yyyyMMddHHmmss>,<workflow id>,<timestamp>,<record count>` (§3.3); some producers also
 * write a column-name row (Dorset, the Python client), others do not (DSP) — both are read.
 * The two published column lists agree on the first sixteen columns, which hold every field
 * pds-trace traces with; Dorset's model adds GP_REGISTRATION_DATE after GP_PRACTICE_CODE (24
 * columns against 23), so the width of the data rows picks the names.
 */
import type { FieldColumns } from './types.js';

const COMMON_COLUMNS = [
  'UNIQUE REFERENCE', 'NHS_NO', 'FAMILY_NAME', 'GIVEN_NAME', 'OTHER_GIVEN_NAME', 'GENDER', 'DATE_OF_BIRTH',
  'POSTCODE', 'DATE_OF_DEATH', 'ADDRESS_LINE1', 'ADDRESS_LINE2', 'ADDRESS_LINE3', 'ADDRESS_LINE4',
  'ADDRESS_LINE5', 'ADDRESS_DATE', 'GP_PRACTICE_CODE',
] as const;
const TAIL_COLUMNS = ['NHAIS_POSTING_ID', 'AS_AT_DATE', 'LOCAL_PATIENT_ID', 'INTERNAL_ID', 'TELEPHONE_NUMBER', 'MOBILE_NUMBER', 'EMAIL_ADDRESS'] as const;

/** DSP schema and the Python client: 23 columns. */
export const MESH_COLUMNS: readonly string[] = [...COMMON_COLUMNS, ...TAIL_COLUMNS];
/** Dorset's model: 24 columns. */
export const MESH_COLUMNS_WITH_GP_REGISTRATION: readonly string[] = [...COMMON_COLUMNS, 'GP_REGISTRATION_DATE', ...TAIL_COLUMNS];

/**
 * UNIQUE REFERENCE is the row's own id (required and unique: file error 08, §3.1), so it is the
 * local id; LOCAL_PATIENT_ID is echoed like any other column.
 */
export const MESH_FIELDS: Readonly<FieldColumns> = {
  localId: 0,
  nhsNumber: 1,
  familyName: 2,
  givenName: 3,
  sex: 5,
  dateOfBirth: 6,
  postcode: 7,
  address1: 9,
  address2: 10,
  address3: 11,
  address4: 12,
  address5: 13,
};

/** The workflow id PDS MESH expects on requests (§3.4). */
export const MESH_REQUEST_WORKFLOW = 'SPINE_PDS_MESH_V1';

export interface MeshControlLine {
  requestReference: string;
  workflowId: string;
  timestamp: string;
  /** The number of data records the control line announces, when it is a whole number. */
  recordCount?: number;
}

export function parseControlLine(cells: readonly string[]): MeshControlLine | null {
  const [reference, workflowId = '', timestamp = '', count = ''] = cells.map((c) => c.trim());
  if (!reference || !/^MPTREQ_\d{14}$/i.test(reference)) return null;
  const line: MeshControlLine = { requestReference: reference, workflowId, timestamp };
  if (/^\d+$/.test(count)) line.recordCount = Number(count);
  return line;
}

/** Findings about a control line worth telling the user; the file is read either way. */
export function controlLineWarnings(control: MeshControlLine): string[] {
  const warnings: string[] = [];
  if (control.workflowId !== MESH_REQUEST_WORKFLOW) warnings.push(`the MESH control line's workflow id is not ${MESH_REQUEST_WORKFLOW}`);
  if (control.recordCount === undefined) warnings.push('the MESH control line does not give a whole-number record count');
  return warnings;
}

/** PDS MESH loaders reject a file whose row count differs from the control line's (§3.3); we read it and say so. */
export function recordCountWarning(control: MeshControlLine, rows: number): string | null {
  if (control.recordCount === undefined || control.recordCount === rows) return null;
  return `the MESH control line announces ${control.recordCount} data records but the file has ${rows}`;
}

/** True for a column-name row in MESH order (`UNIQUE REFERENCE,NHS_NO,FAMILY_NAME,…`). */
export function isMeshHeaderRow(cells: readonly string[]): boolean {
  const squash = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return COMMON_COLUMNS.slice(0, 8).every((name, i) => cells[i] !== undefined && squash(cells[i]) === squash(name));
}

/** Column names for positional data rows of the given width. */
export function meshColumnsFor(width: number): readonly string[] {
  return width === MESH_COLUMNS_WITH_GP_REGISTRATION.length ? MESH_COLUMNS_WITH_GP_REGISTRATION : MESH_COLUMNS;
}
