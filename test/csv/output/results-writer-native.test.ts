import { readFile, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResultsWriter, TRACE_COLUMNS } from '../../../src/csv/output/results-writer.js';
import { matchedResult, MESSAGE_ID, NHS, patient, readCsv, rejectedResult, tempDir, type TempDir } from './fixtures.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const HEADERS = ['Local ID', 'Surname', 'Forename', 'DOB'];

/** Writes the rows with the native layout and returns the file read back as objects by header. */
async function writeNative(rows: Parameters<Awaited<ReturnType<typeof createResultsWriter>>['write']>[0][], options: { bom?: boolean; headers?: string[] } = {}) {
  const file = tmp.file('cohort.results.csv');
  const writer = await createResultsWriter(file, { inputHeaders: options.headers ?? HEADERS, format: 'native', bom: options.bom });
  for (const row of rows) await writer.write(row);
  await writer.close();
  const table = await readCsv(file);
  const header = table[0]!;
  const records = table.slice(1).map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i]])));
  return { file, header, records };
}

describe('native results layout', () => {
  it('heads the file with the input headers then the trace columns in the documented order', async () => {
    const { header } = await writeNative([]);
    expect(header).toEqual([...HEADERS, ...TRACE_COLUMNS]);
    expect(TRACE_COLUMNS.slice(0, 4)).toEqual(['trace_status', 'trace_reason', 'trace_message', 'trace_nhs_number']);
    // The data-quality columns come last, right after the message id.
    expect(TRACE_COLUMNS.slice(-3)).toEqual(['trace_message_id', 'trace_dq_flags', 'trace_discrepancies']);
    expect(TRACE_COLUMNS).toHaveLength(19);
  });

  it('flattens a matched PDS record: ISO dates, sex code, joined names, home address, GP, sensitivity', async () => {
    const { records } = await writeNative([{ cells: ['L1', 'testpatient', 'ada', '04/07/1980'], result: matchedResult(1) }]);
    expect(records[0]).toEqual({
      'Local ID': 'L1',
      Surname: 'testpatient',
      Forename: 'ada',
      DOB: '04/07/1980',
      trace_status: 'matched',
      trace_reason: 'ok',
      trace_message: 'traced',
      trace_nhs_number: NHS.traced,
      trace_response_code: 'SMSP-0000',
      trace_interaction: 'getPatientDetailsBySearch',
      trace_family_name: 'Testpatient',
      trace_given_names: 'Ada Mary',
      trace_date_of_birth: '1980-07-04',
      trace_sex: '2',
      trace_postcode: 'LS1 6AE',
      trace_address: '12 Example Street, Sampletown, Leeds',
      trace_date_of_death: '',
      trace_gp_practice_code: 'Y90001',
      trace_sensitive: 'false',
      trace_superseded_nhs_number: '',
      trace_message_id: MESSAGE_ID,
      trace_dq_flags: '',
      trace_discrepancies: '',
    });
  });

  it('writes the row\'s data-quality flags and the fields that differ from PDS, each joined with ;', async () => {
    const { records } = await writeNative([
      {
        cells: ['L1', 'testpatient', 'ada', '04/07/1980'],
        result: matchedResult(1),
        flags: ['duplicate_nhs_number', 'demographic_discrepancy', 'duplicate_local_id'],
        discrepancies: [{ field: 'postcode', local: 'LS1 1AA', pds: 'LS1 6AE' }, { field: 'date_of_death', pds: '2024-01-15' }],
      },
      { cells: ['L2', 'x', 'y', 'z'], result: matchedResult(2), flags: [], discrepancies: [] },
    ]);
    expect(records[0]).toMatchObject({
      trace_dq_flags: 'duplicate_nhs_number;demographic_discrepancy;duplicate_local_id',
      trace_discrepancies: 'postcode;date_of_death',
    });
    expect(records[1]).toMatchObject({ trace_dq_flags: '', trace_discrepancies: '' });
  });

  it('keeps partial PDS dates at their precision and drops a time of death', async () => {
    const result = matchedResult(1, { patient: patient({ dateOfBirth: '1980', dateOfDeath: '202401151230' }) });
    const partialMonth = matchedResult(2, { patient: patient({ dateOfBirth: '198007' }) });
    const { records } = await writeNative([
      { cells: ['a', 'b', 'c', 'd'], result },
      { cells: ['a', 'b', 'c', 'd'], result: partialMonth },
    ]);
    expect(records[0]).toMatchObject({ trace_date_of_birth: '1980', trace_date_of_death: '2024-01-15' });
    expect(records[1]).toMatchObject({ trace_date_of_birth: '1980-07' });
  });

  it('writes the superseded number beside the replacement, and true for a sensitive record', async () => {
    const result = matchedResult(1, {
      status: 'superseded',
      reason: 'nhs_number_superseded',
      responseCode: 'DEMOG-0017',
      nhsNumber: NHS.replacement,
      supersededNhsNumber: NHS.supplied,
      patient: patient({ nhsNumber: NHS.replacement, sensitive: true, addresses: [], telecoms: [], gpPractice: undefined }),
    });
    const { records } = await writeNative([{ cells: ['a', 'b', 'c', 'd'], result }]);
    expect(records[0]).toMatchObject({
      trace_status: 'superseded',
      trace_nhs_number: NHS.replacement,
      trace_superseded_nhs_number: NHS.supplied,
      trace_sensitive: 'true',
      trace_address: '',
      trace_postcode: '',
      trace_gp_practice_code: '',
    });
  });

  it('explains a rejected row in words with its detail, and leaves the PDS columns empty', async () => {
    const { records } = await writeNative([{ cells: ['L2', '', '', ''], result: rejectedResult(1, 'missing_family_name', 'column Surname is empty') }]);
    expect(records[0]).toMatchObject({
      trace_status: 'invalid_input',
      trace_reason: 'missing_family_name',
      trace_message: 'family name is required for a demographic search: column Surname is empty',
      trace_nhs_number: '',
      trace_interaction: '',
      trace_sensitive: '',
      trace_message_id: '',
    });
  });

  it('neutralises formulas in echoed cells, headers, PDS names and addresses, but not in identifiers', async () => {
    const hostile = patient({
      familyName: '=HYPERLINK("http://evil.example","x")',
      givenNames: ['@SUM(1)'],
      addresses: [{ use: 'H', lines: ['-1+1', '', '', '', ''], postcode: 'LS1 6AE' }],
    });
    const { header, records } = await writeNative(
      [{ cells: ['=cmd|calc', '+44 7700 900123', 'ok', '1980-07-04'], result: matchedResult(1, { patient: hostile, detail: '=1+1' }) }],
      { headers: ['=bad header', 'Phone', 'Name', 'DOB'] },
    );
    expect(header[0]).toBe("'=bad header");
    expect(records[0]).toMatchObject({
      "'=bad header": "'=cmd|calc",
      Phone: "'+44 7700 900123",
      Name: 'ok',
      DOB: '1980-07-04',
      trace_family_name: '\'=HYPERLINK("http://evil.example","x")',
      trace_given_names: "'@SUM(1)",
      trace_address: "'-1+1",
      trace_message: 'traced: =1+1',
      trace_nhs_number: NHS.traced,
      trace_date_of_birth: '1980-07-04',
    });
  });

  it('keeps every row once, in the order written', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ cells: [`L${i + 1}`, 'x', 'y', 'z'], result: i % 3 === 0 ? rejectedResult(i + 1, 'nhs_number_check_digit') : matchedResult(i + 1) }));
    const { records } = await writeNative(rows);
    expect(records.map((r) => r['Local ID'])).toEqual(rows.map((r) => r.cells[0]));
    expect(records.map((r) => r.trace_status)).toEqual(rows.map((r) => r.result.status));
  });

  it('pads a short ragged row and cuts a long one so the trace columns stay under their headers', async () => {
    const { records } = await writeNative([
      { cells: ['only one'], result: rejectedResult(1, 'ragged_row') },
      { cells: ['a', 'b', 'c', 'd', 'extra'], result: rejectedResult(2, 'ragged_row') },
    ]);
    expect(records[0]).toMatchObject({ 'Local ID': 'only one', Surname: '', DOB: '', trace_status: 'invalid_input', trace_reason: 'ragged_row' });
    expect(records[1]).toMatchObject({ DOB: 'd', trace_status: 'invalid_input' });
  });

  it('ends records with CRLF, writes a UTF-8 BOM only when asked, and creates the file 0600', async () => {
    const plain = await writeNative([{ cells: ['a', 'b', 'c', 'd'], result: matchedResult(1) }]);
    const plainBytes = await readFile(plain.file);
    expect(plainBytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(plainBytes.toString('utf8').split('\r\n')).toHaveLength(3);
    expect(plainBytes.toString('utf8').replaceAll('\r\n', '')).not.toMatch(/\n/);
    expect((await stat(plain.file)).mode & 0o777).toBe(0o600);

    const withBom = await writeNative([{ cells: ['Zoë', 'b', 'c', 'd'], result: matchedResult(1) }], { bom: true });
    const bomBytes = await readFile(withBom.file);
    expect([...bomBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(withBom.records[0]!['Local ID']).toBe('Zoë');
  });

  it('leaves no file behind when aborted', async () => {
    const writer = await createResultsWriter(tmp.file('x.results.csv'), { inputHeaders: HEADERS, format: 'native' });
    await writer.write({ cells: ['a', 'b', 'c', 'd'], result: matchedResult(1) });
    await writer.abort();
    expect(await tmp.list()).toEqual([]);
  });
});
