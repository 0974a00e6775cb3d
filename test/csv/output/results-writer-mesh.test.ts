import { readFile, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PatientQuery } from '../../../src/domain/demographics.js';
import type { RowResult } from '../../../src/domain/row-result.js';
import { MESH_MULTIPLE_MATCH_NHS_NUMBER, MESH_NO_MATCH_NHS_NUMBER } from '../../../src/csv/output/mesh-codes.js';
import { meshRequestReference } from '../../../src/csv/output/mesh-results-file.js';
import { createResultsWriter, MESH_RESPONSE_COLUMNS, type ResultRow } from '../../../src/csv/output/results-writer.js';
import { exchange, matchedResult, NHS, patient, readCsv, rejectedResult, tempDir, type TempDir } from './fixtures.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

/** The descriptive names a header-less PDS MESH request file is read with (batch-formats.md §3.1). */
const MESH_REQUEST_HEADERS = [
  'UNIQUE REFERENCE', 'NHS_NO', 'FAMILY_NAME', 'GIVEN_NAME', 'OTHER_GIVEN_NAME', 'GENDER', 'DATE_OF_BIRTH', 'POSTCODE',
  'DATE_OF_DEATH', 'ADDRESS_LINE1', 'ADDRESS_LINE2', 'ADDRESS_LINE3', 'ADDRESS_LINE4', 'ADDRESS_LINE5', 'ADDRESS_DATE',
  'GP_PRACTICE_CODE', 'NHAIS_POSTING_ID', 'AS_AT_DATE', 'LOCAL_PATIENT_ID', 'INTERNAL_ID', 'TELEPHONE_NUMBER',
  'MOBILE_NUMBER', 'EMAIL_ADDRESS',
];

function meshRequestCells(reference: string, overrides: Record<string, string> = {}): string[] {
  const values: Record<string, string> = {
    'UNIQUE REFERENCE': reference,
    NHS_NO: NHS.supplied,
    FAMILY_NAME: 'SUPPLIED',
    GIVEN_NAME: 'Person',
    GENDER: '2',
    DATE_OF_BIRTH: '19800704',
    POSTCODE: 'LS1 6AE',
    ADDRESS_LINE1: 'Supplied Street',
    LOCAL_PATIENT_ID: 'LP-1',
    ...overrides,
  };
  return MESH_REQUEST_HEADERS.map((h) => values[h] ?? '');
}

async function writeMesh(rows: ResultRow[], options: { headers?: string[]; bom?: boolean; reference?: string } = {}) {
  const file = tmp.file('cohort.results.csv');
  const writer = await createResultsWriter(file, {
    inputHeaders: options.headers ?? MESH_REQUEST_HEADERS,
    format: 'mesh',
    bom: options.bom,
    meshReference: options.reference ?? 'MPTREQ_20250102030405',
  });
  for (const row of rows) await writer.write(row);
  await writer.close();
  const [control, ...data] = await readCsv(file);
  const records = data.map((cells) => Object.fromEntries(MESH_RESPONSE_COLUMNS.map((c, i) => [c, cells[i]!])));
  return { file, control: control!, data, records };
}

const row = (reference: string, result: RowResult, query?: PatientQuery): ResultRow => ({ cells: meshRequestCells(reference), result, query });

describe('PDS MESH response layout', () => {
  it('has the 29 Dorset response columns in order', () => {
    expect(MESH_RESPONSE_COLUMNS).toHaveLength(29);
    expect(MESH_RESPONSE_COLUMNS.slice(0, 2)).toEqual(['UNIQUE REFERENCE', 'REQ_NHS_NUMBER']);
    expect(MESH_RESPONSE_COLUMNS.indexOf('POSTCODE')).toBe(MESH_RESPONSE_COLUMNS.indexOf('ADDRESS_LINE5') + 1);
    expect(MESH_RESPONSE_COLUMNS.slice(-6)).toEqual(['SENSITIVITY_FLAG', 'MPS_ID', 'ERROR/SUCCESS_CODE', 'MATCHED_NHS_NO', 'MATCHED_ALGORITHM_INDICATOR', 'MATCHED_CONFIDENCE_PERCENTAGE']);
  });

  it('starts with the control line carrying the reference, workflow, record count and file code 00, and no column-name row', async () => {
    const { control, data } = await writeMesh([row('R1', matchedResult(1)), row('R2', rejectedResult(2, 'missing_sex'))]);
    expect(control).toEqual(['MPTREQ_20250102030405', 'SPINE_MPT_RESPONSE', '2', '00']);
    expect(data).toHaveLength(2);
    expect(data.every((cells) => cells.length === 29)).toBe(true);
    expect(data[0]![0]).toBe('R1');
  });

  it('names a generated reference MPTREQ_<yyyyMMddHHmmss> in UTC', () => {
    expect(meshRequestReference(new Date('2021-08-02T17:10:59.123Z'))).toBe('MPTREQ_20210802171059');
  });

  it('writes a zero count for an empty input, CRLF records, a BOM when asked, owner-only', async () => {
    const { file, control, data } = await writeMesh([], { bom: true });
    expect(control).toEqual(['MPTREQ_20250102030405', 'SPINE_MPT_RESPONSE', '0', '00']);
    expect(data).toEqual([]);
    const bytes = await readFile(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe('MPTREQ_20250102030405,SPINE_MPT_RESPONSE,0,00\r\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('fills a matched record from PDS in MESH encodings, echoing the reference and the requested number', async () => {
    const { records } = await writeMesh([row('R1', matchedResult(1))]);
    expect(records[0]).toEqual({
      'UNIQUE REFERENCE': 'R1',
      REQ_NHS_NUMBER: NHS.supplied,
      FAMILY_NAME: 'Testpatient',
      GIVEN_NAME: 'Ada',
      OTHER_GIVEN_NAME: 'Mary',
      GENDER: '2',
      DATE_OF_BIRTH: '19800704',
      DATE_OF_DEATH: '',
      ADDRESS_LINE1: '12 Example Street',
      ADDRESS_LINE2: '',
      ADDRESS_LINE3: 'Sampletown',
      ADDRESS_LINE4: 'Leeds',
      ADDRESS_LINE5: '',
      POSTCODE: 'LS1 6AE',
      GP_PRACTICE_CODE: 'Y90001',
      GP_REGISTRATION_DATE: '',
      NHAIS_POSTING_ID: '',
      AS_AT_DATE: '',
      LOCAL_PATIENT_ID: 'LP-1',
      INTERNAL_ID: '',
      TELEPHONE_NUMBER: '01632960000',
      MOBILE_NUMBER: '07700900123',
      EMAIL_ADDRESS: 'ada@example.org',
      SENSITIVITY_FLAG: 'N',
      MPS_ID: '',
      'ERROR/SUCCESS_CODE': '00',
      MATCHED_NHS_NO: NHS.traced,
      MATCHED_ALGORITHM_INDICATOR: '2',
      MATCHED_CONFIDENCE_PERCENTAGE: '100',
    });
  });

  it.each<[string, RowResult, Record<string, string>]>([
    ['verified by cross-check', matchedResult(1, { status: 'verified', interaction: 'verifyNHSNumber', nhsNumber: undefined, patient: undefined }), { 'ERROR/SUCCESS_CODE': '00', MATCHED_NHS_NO: NHS.supplied, MATCHED_ALGORITHM_INDICATOR: '1', MATCHED_CONFIDENCE_PERCENTAGE: '100', SENSITIVITY_FLAG: '' }],
    ['no match', { rowNumber: 1, status: 'no_match', reason: 'no_match', responseCode: 'DEMOG-0001', exchanges: [] }, { 'ERROR/SUCCESS_CODE': '98', MATCHED_NHS_NO: MESH_NO_MATCH_NHS_NUMBER, MATCHED_ALGORITHM_INDICATOR: '0', MATCHED_CONFIDENCE_PERCENTAGE: '' }],
    ['multiple matches', { rowNumber: 1, status: 'multiple_matches', reason: 'multiple_matches', exchanges: [] }, { 'ERROR/SUCCESS_CODE': '97', MATCHED_NHS_NO: MESH_MULTIPLE_MATCH_NHS_NUMBER, MATCHED_ALGORITHM_INDICATOR: '0' }],
    ['not verified', { rowNumber: 1, status: 'not_verified', reason: 'nhs_number_not_verified', interaction: 'verifyNHSNumber', exchanges: [] }, { 'ERROR/SUCCESS_CODE': '98', MATCHED_NHS_NO: MESH_NO_MATCH_NHS_NUMBER, MATCHED_ALGORITHM_INDICATOR: '0' }],
    ['superseded', matchedResult(1, { status: 'superseded', reason: 'nhs_number_superseded', interaction: 'getPatientDetailsByNHSNumber', nhsNumber: NHS.replacement, supersededNhsNumber: NHS.supplied }), { 'ERROR/SUCCESS_CODE': '90', MATCHED_NHS_NO: NHS.replacement, MATCHED_ALGORITHM_INDICATOR: '1' }],
    ['invalidated', { rowNumber: 1, status: 'invalidated', reason: 'nhs_number_invalidated', interaction: 'verifyNHSNumber', exchanges: [] }, { 'ERROR/SUCCESS_CODE': '91', MATCHED_NHS_NO: MESH_NO_MATCH_NHS_NUMBER, MATCHED_ALGORITHM_INDICATOR: '1' }],
    ['an error (never a no-match)', { rowNumber: 1, status: 'error', reason: 'timeout', exchanges: [exchange({ status: 'error', reason: 'timeout', responseCode: undefined })] }, { 'ERROR/SUCCESS_CODE': '15', MATCHED_NHS_NO: '', MATCHED_ALGORITHM_INDICATOR: '', MATCHED_CONFIDENCE_PERCENTAGE: '' }],
    ['a sensitive match', matchedResult(1, { patient: patient({ sensitive: true, addresses: [], gpPractice: undefined }) }), { 'ERROR/SUCCESS_CODE': '92', SENSITIVITY_FLAG: 'S', MATCHED_NHS_NO: NHS.traced, TELEPHONE_NUMBER: '', MOBILE_NUMBER: '', EMAIL_ADDRESS: '', ADDRESS_LINE1: '', POSTCODE: '' }],
    ['a sensitive superseded record (keeps 90)', matchedResult(1, { status: 'superseded', reason: 'nhs_number_superseded', nhsNumber: NHS.replacement, patient: patient({ sensitive: true, addresses: [] }) }), { 'ERROR/SUCCESS_CODE': '90', SENSITIVITY_FLAG: 'S' }],
  ])('codes %s as PDS MESH does', async (_, result, expected) => {
    const { records } = await writeMesh([row('R1', result)]);
    expect(records[0]).toMatchObject(expected);
  });

  it('uses getPatientDetails as a cross-check when the request had an NHS number, a search otherwise', async () => {
    const result = matchedResult(1, { interaction: 'getPatientDetails' });
    const noNumber = meshRequestCells('R2', { NHS_NO: '' });
    const { records } = await writeMesh([row('R1', result), { cells: noNumber, result: matchedResult(2, { interaction: 'getPatientDetails' }) }]);
    expect(records.map((r) => r.MATCHED_ALGORITHM_INDICATOR)).toEqual(['1', '2']);
  });

  it.each([
    ['missing_date_of_birth', '10'],
    ['missing_family_name', '96'],
    ['sex_code', '12'],
    ['sex_unrecognised', '12'],
    ['field_too_long', '11'],
    ['duplicate_local_id', '08'],
    ['nhs_number_check_digit', '13'],
    ['date_of_birth_format', '13'],
    ['smsp_input_validation', '13'],
  ])('codes a row rejected for %s as %s with no matched number', async (reason, code) => {
    const { records } = await writeMesh([row('R1', rejectedResult(1, reason))]);
    expect(records[0]).toMatchObject({ 'ERROR/SUCCESS_CODE': code, MATCHED_NHS_NO: '', MATCHED_ALGORITHM_INDICATOR: '', 'UNIQUE REFERENCE': 'R1' });
  });

  it('echoes the request demographics when PDS returned no record', async () => {
    const { records } = await writeMesh([row('R9', rejectedResult(1, 'postcode_format'))]);
    expect(records[0]).toMatchObject({ 'UNIQUE REFERENCE': 'R9', REQ_NHS_NUMBER: NHS.supplied, FAMILY_NAME: 'SUPPLIED', GIVEN_NAME: 'Person', DATE_OF_BIRTH: '19800704', ADDRESS_LINE1: 'Supplied Street', POSTCODE: 'LS1 6AE', LOCAL_PATIENT_ID: 'LP-1' });
  });

  it('echoes from the normalised query for a native input, and falls back to the row number for the reference', async () => {
    const query: PatientQuery = { nhsNumber: NHS.supplied, familyName: 'QUERY', givenName: 'Name', dateOfBirth: '19800704', sex: '1', postcode: 'LS1 6AE', localId: 'LOCAL-7' };
    const headers = ['patient id', 'surname', 'dob'];
    const noMatch: RowResult = { rowNumber: 4, status: 'no_match', reason: 'no_match', exchanges: [] };
    const { records } = await writeMesh(
      [
        { cells: ['LOCAL-7', 'query', '04/07/1980'], query, result: noMatch },
        { cells: ['', '', ''], result: rejectedResult(5, 'missing_date_of_birth') },
      ],
      { headers },
    );
    expect(records[0]).toMatchObject({ 'UNIQUE REFERENCE': 'LOCAL-7', REQ_NHS_NUMBER: NHS.supplied, FAMILY_NAME: 'QUERY', GIVEN_NAME: 'Name', GENDER: '1', DATE_OF_BIRTH: '19800704', POSTCODE: 'LS1 6AE' });
    expect(records[1]).toMatchObject({ 'UNIQUE REFERENCE': '5', REQ_NHS_NUMBER: '', 'ERROR/SUCCESS_CODE': '10' });
  });

  it('matches MESH-named input columns whatever their case or separators', async () => {
    const headers = ['unique-reference', 'nhs no', 'Family Name'];
    const { records } = await writeMesh([{ cells: ['REF-1', NHS.other, 'Echo'], result: rejectedResult(1, 'missing_sex') }], { headers });
    expect(records[0]).toMatchObject({ 'UNIQUE REFERENCE': 'REF-1', REQ_NHS_NUMBER: NHS.other, FAMILY_NAME: 'Echo' });
  });

  it('neutralises formulas in echoed and PDS values while codes and sentinels pass unchanged', async () => {
    const hostile = matchedResult(1, { patient: patient({ familyName: '=cmd', addresses: [{ use: 'H', lines: ['@x', '', '', '', ''], postcode: 'LS1 6AE' }] }) });
    const { records } = await writeMesh([{ cells: meshRequestCells('+REF'), result: hostile }, { cells: meshRequestCells('-R2', { FAMILY_NAME: '=HYPERLINK("x")' }), result: rejectedResult(2, 'missing_sex') }]);
    expect(records[0]).toMatchObject({ 'UNIQUE REFERENCE': "'+REF", FAMILY_NAME: "'=cmd", ADDRESS_LINE1: "'@x", 'ERROR/SUCCESS_CODE': '00', MATCHED_NHS_NO: NHS.traced });
    expect(records[1]).toMatchObject({ 'UNIQUE REFERENCE': "'-R2", FAMILY_NAME: '\'=HYPERLINK("x")' });
  });

  it('leaves neither the final file nor its private records file behind when aborted', async () => {
    const writer = await createResultsWriter(tmp.file('x.results.csv'), { inputHeaders: MESH_REQUEST_HEADERS, format: 'mesh' });
    await writer.write(row('R1', matchedResult(1)));
    await writer.abort();
    expect(await tmp.list()).toEqual([]);
  });

  it('leaves only the final file after close', async () => {
    await writeMesh([row('R1', matchedResult(1))]);
    expect(await tmp.list()).toEqual(['cohort.results.csv']);
  });
});
