import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PatientQuery } from '../../../src/domain/demographics.js';
import type { RowResult } from '../../../src/domain/row-result.js';
import { MESH_RESPONSE_WORKFLOW_ID } from '../../../src/csv/output/mesh-results-file.js';
import { createResultsWriter, MESH_RESPONSE_COLUMNS, type ResultRow } from '../../../src/csv/output/results-writer.js';
import { exchange, NHS, rejectedResult, tempDir, type TempDir } from './fixtures.js';

/**
 * `--format mesh` is strictly the PDS MESH response layout for every row (batch-formats.md
 * §3.2–3.3), the rows PDS found nobody for included: each field of an unmatched row is checked
 * against the layout's form, and values typed in other forms (`2013-03-05`, `fg133ss`, `F`) are
 * written in the layout's.
 */

let tmp: TempDir;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

/** A MESH request file as analysts type it: right column names, values in their own forms. */
const HEADERS = ['UNIQUE REFERENCE', 'NHS_NO', 'FAMILY_NAME', 'GIVEN_NAME', 'GENDER', 'DATE_OF_BIRTH', 'POSTCODE', 'DATE_OF_DEATH', 'ADDRESS_LINE1', 'AS_AT_DATE'];
const TYPED = ['REF-1', '999 000 0018', 'Testpatient', 'Ada', 'F', '2013-03-05', 'fg133ss', '05/03/2020', '1 Example Street', '2025-01-31'];

/** The form each response field must have (batch-formats.md §3.1, §3.2, §3.5, §6.2, §6.3). */
const DIGITS10 = /^(\d{10})?$/;
const DATE = /^(\d{4}(\d{2}(\d{2})?)?)?$/;
const FREE = /^[^\r\n]*$/;
const FIELD_FORMS: Record<(typeof MESH_RESPONSE_COLUMNS)[number], RegExp> = {
  'UNIQUE REFERENCE': /^.+$/,
  REQ_NHS_NUMBER: DIGITS10,
  FAMILY_NAME: FREE,
  GIVEN_NAME: FREE,
  OTHER_GIVEN_NAME: FREE,
  GENDER: /^[0129]?$/,
  DATE_OF_BIRTH: DATE,
  DATE_OF_DEATH: DATE,
  ADDRESS_LINE1: FREE,
  ADDRESS_LINE2: FREE,
  ADDRESS_LINE3: FREE,
  ADDRESS_LINE4: FREE,
  ADDRESS_LINE5: FREE,
  POSTCODE: /^([A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2})?$/,
  GP_PRACTICE_CODE: /^([A-Z0-9]{3,8})?$/,
  GP_REGISTRATION_DATE: DATE,
  NHAIS_POSTING_ID: FREE,
  AS_AT_DATE: DATE,
  LOCAL_PATIENT_ID: FREE,
  INTERNAL_ID: FREE,
  TELEPHONE_NUMBER: FREE,
  MOBILE_NUMBER: FREE,
  EMAIL_ADDRESS: FREE,
  SENSITIVITY_FLAG: /^[SN]?$/,
  MPS_ID: /^$/,
  'ERROR/SUCCESS_CODE': /^\d{2}$/,
  MATCHED_NHS_NO: DIGITS10,
  MATCHED_ALGORITHM_INDICATOR: /^[0-4]?$/,
  MATCHED_CONFIDENCE_PERCENTAGE: /^(100|\d{1,2})?$/,
};

const QUERY: PatientQuery = { nhsNumber: NHS.supplied, familyName: 'Testpatient', givenName: 'Ada', sex: '2', dateOfBirth: '20130305', postcode: 'FG13 3SS', localId: 'REF-1' };
const DATES = { dayFirst: true, today: new Date('2026-01-01T00:00:00Z') };

async function writeMesh(rows: ResultRow[]): Promise<{ lines: string[][]; records: Array<Record<string, string>> }> {
  const file = tmp.file('cohort.results.csv');
  const writer = await createResultsWriter(file, { inputHeaders: HEADERS, format: 'mesh', meshReference: 'MPTREQ_20260101000000', dates: DATES });
  for (const row of rows) await writer.write(row);
  await writer.close();
  // Strict: every data record has exactly the layout's 29 fields (the control line is read apart).
  const text = await readFile(file, 'utf8');
  const [control] = parse(text, { to_line: 1 }) as string[][];
  const data = parse(text, { from_line: 2, relax_column_count: false }) as string[][];
  return { lines: [control!, ...data], records: data.map((cells) => Object.fromEntries(MESH_RESPONSE_COLUMNS.map((c, i) => [c, cells[i]!]))) };
}

function expectStrictlyTheLayout(record: Record<string, string>): void {
  expect(Object.keys(record)).toHaveLength(29);
  const wrong = MESH_RESPONSE_COLUMNS.filter((column) => !FIELD_FORMS[column].test(record[column]!)).map((c) => `${c}=${record[c]}`);
  expect(wrong).toEqual([]);
}

const noMatch: RowResult = { rowNumber: 1, status: 'no_match', reason: 'no_match', interaction: 'getPatientDetailsByNHSNumber', exchanges: [exchange({ status: 'no_match', reason: 'no_match', responseCode: 'DEMOG-0001' })] };
const failed: RowResult = { rowNumber: 3, status: 'error', reason: 'transport_timeout', exchanges: [exchange({ status: 'error', reason: 'transport_timeout', responseCode: undefined })] };

describe('MESH output for rows PDS found nobody for, field by field', () => {
  it('writes a no_match row strictly in the layout, its typed date, postcode, sex and number in the layout\'s forms', async () => {
    const { lines, records } = await writeMesh([{ cells: TYPED, query: QUERY, result: noMatch }]);
    expect(lines[0]).toEqual(['MPTREQ_20260101000000', MESH_RESPONSE_WORKFLOW_ID, '1', '00']);
    expectStrictlyTheLayout(records[0]!);
    expect(records[0]).toEqual({
      'UNIQUE REFERENCE': 'REF-1',
      REQ_NHS_NUMBER: '9990000018',
      FAMILY_NAME: 'Testpatient',
      GIVEN_NAME: 'Ada',
      OTHER_GIVEN_NAME: '',
      GENDER: '2',
      DATE_OF_BIRTH: '20130305',
      DATE_OF_DEATH: '20200305',
      ADDRESS_LINE1: '1 Example Street',
      ADDRESS_LINE2: '',
      ADDRESS_LINE3: '',
      ADDRESS_LINE4: '',
      ADDRESS_LINE5: '',
      POSTCODE: 'FG13 3SS',
      GP_PRACTICE_CODE: '',
      GP_REGISTRATION_DATE: '',
      NHAIS_POSTING_ID: '',
      AS_AT_DATE: '20250131',
      LOCAL_PATIENT_ID: '',
      INTERNAL_ID: '',
      TELEPHONE_NUMBER: '',
      MOBILE_NUMBER: '',
      EMAIL_ADDRESS: '',
      SENSITIVITY_FLAG: '',
      MPS_ID: '',
      'ERROR/SUCCESS_CODE': '98',
      MATCHED_NHS_NO: '0000000000',
      MATCHED_ALGORITHM_INDICATOR: '0',
      MATCHED_CONFIDENCE_PERCENTAGE: '',
    });
  });

  it('writes an invalid_input row (no normalised query) in the layout\'s forms read from its cells, leaving unreadable ones empty', async () => {
    const unreadable = [...TYPED];
    unreadable[5] = '31/02/2013'; // no such day: the reason the row was rejected
    unreadable[6] = 'NOT A POSTCODE';
    const { records } = await writeMesh([
      { cells: TYPED, result: rejectedResult(1, 'missing_family_name') },
      { cells: unreadable, result: rejectedResult(2, 'date_of_birth_invalid') },
    ]);
    for (const record of records) expectStrictlyTheLayout(record);
    expect(records[0]).toMatchObject({ REQ_NHS_NUMBER: '9990000018', GENDER: '2', DATE_OF_BIRTH: '20130305', POSTCODE: 'FG13 3SS', DATE_OF_DEATH: '20200305', 'ERROR/SUCCESS_CODE': '96', MATCHED_NHS_NO: '' });
    expect(records[1]).toMatchObject({ DATE_OF_BIRTH: '', POSTCODE: '', FAMILY_NAME: 'Testpatient', 'ERROR/SUCCESS_CODE': '13', MATCHED_NHS_NO: '', MATCHED_ALGORITHM_INDICATOR: '' });
  });

  it('writes an error row in the layout with code 15 and no sentinel number', async () => {
    const { records } = await writeMesh([{ cells: TYPED, query: QUERY, result: failed }]);
    expectStrictlyTheLayout(records[0]!);
    expect(records[0]).toMatchObject({ DATE_OF_BIRTH: '20130305', POSTCODE: 'FG13 3SS', GENDER: '2', 'ERROR/SUCCESS_CODE': '15', MATCHED_NHS_NO: '', MATCHED_ALGORITHM_INDICATOR: '' });
  });

  it('keeps a ten-digit number with a wrong check digit, the number the row was rejected for', async () => {
    const cells = [...TYPED];
    cells[1] = '999-000-0019';
    const { records } = await writeMesh([{ cells, result: rejectedResult(1, 'nhs_number_check_digit') }]);
    expectStrictlyTheLayout(records[0]!);
    expect(records[0]!.REQ_NHS_NUMBER).toBe('9990000019');
  });
});
