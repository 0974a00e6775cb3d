import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NHS_CONFIDENTIAL_LABEL } from '../../src/csv/output/confidential-label.js';
import type { RowResult } from '../../src/domain/row-result.js';
import { BACK_OFFICE_COLUMNS, openBackOfficeReport } from '../../src/quality/back-office-report.js';
import { PROTECTIVE_MARKING_COLUMN } from '../../src/quality/report-csv.js';
import { DISCREPANCY_REPORT_COLUMNS, openDiscrepancyReport } from '../../src/quality/discrepancy-report.js';
import { flagWarning } from '../../src/domain/dq-flags.js';
import type { LocalIdentity } from '../../src/quality/local-record.js';
import type { ReportRow } from '../../src/quality/report-csv.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pds-trace-quality-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const identity = (overrides: Partial<LocalIdentity> = {}): LocalIdentity => ({
  localId: 'L1',
  nhsNumber: '9990000018',
  familyName: 'TESTPATIENT',
  givenName: 'Ada',
  dateOfBirth: '04/07/1980',
  sex: 'F',
  postcode: 'LS1 6AE',
  ...overrides,
});

const superseded: RowResult = { rowNumber: 3, status: 'superseded', reason: 'nhs_number_superseded', nhsNumber: '9990000026', supersededNhsNumber: '9990000018', exchanges: [] };

/** Reads a report as any strict CSV reader would: the first line is the header, every record as wide. */
async function readReport(file: string): Promise<{ header: string[]; records: Array<Record<string, string>> }> {
  const text = await readFile(file, 'utf8');
  const [header] = parse(text, { to_line: 1, bom: true }) as string[][];
  const records = parse(text, { columns: true, bom: true, relax_column_count: false }) as Array<Record<string, string>>;
  return { header: header!, records };
}

describe('back-office report', () => {
  it('writes the column names first, then one line per finding of each flagged row with its warning, related rows and local identifiers', async () => {
    const file = path.join(dir, 'c.back-office.csv');
    const report = await openBackOfficeReport(file);
    const mergeRow: ReportRow = {
      rowNumber: 3,
      identity: identity(),
      suppliedNhsNumber: '9990000018',
      result: superseded,
      quality: {
        flags: ['superseded_replacement_in_file', 'demographic_discrepancy'],
        discrepancies: [{ field: 'postcode', local: 'LS2 7AA', pds: 'LS1 6AE' }, { field: 'date_of_death', pds: '2024-01-15' }],
        related: { superseded_replacement_in_file: { rows: [8, 12], more: true } },
      },
    };
    await report.write(mergeRow);
    await report.write({ ...mergeRow, rowNumber: 4, quality: { flags: [], discrepancies: [], related: {} } });
    await report.write({
      rowNumber: 9,
      identity: identity({ localId: '=HYPERLINK("x")', nhsNumber: '9990000042' }),
      suppliedNhsNumber: '9990000042',
      result: { rowNumber: 9, status: 'invalidated', reason: 'nhs_number_invalidated', exchanges: [] },
      quality: { flags: ['invalidated_record'], discrepancies: [], related: {} },
    });
    await report.close();

    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { header, records } = await readReport(file);
    expect(header).toEqual([...BACK_OFFICE_COLUMNS, PROTECTIVE_MARKING_COLUMN]);
    // The marking is a column of every record, not a line above the header.
    expect(records.map((r) => r.protective_marking)).toEqual(records.map(() => NHS_CONFIDENTIAL_LABEL));
    expect(records.map((r) => [r.row_number, r.flag])).toEqual([
      ['3', 'superseded_replacement_in_file'],
      ['3', 'demographic_discrepancy'],
      ['9', 'invalidated_record'],
    ]);
    expect(records[0]).toMatchObject({
      local_id: 'L1',
      supplied_nhs_number: '999 000 0018',
      returned_nhs_number: '999 000 0026',
      warning: flagWarning('superseded_replacement_in_file'),
      related_rows: '8; 12; and more',
      detail: 'NHS number 999 000 0018 was replaced by 999 000 0026, which a related row already holds',
      trace_status: 'superseded',
      family_name: 'TESTPATIENT',
      given_name: 'Ada',
      date_of_birth: '04/07/1980',
      sex: 'F',
      postcode: 'LS1 6AE',
    });
    expect(records[1]).toMatchObject({ related_rows: '', detail: 'differs from PDS in: postcode, date of death' });
    expect(records[2]).toMatchObject({
      local_id: '\'=HYPERLINK("x")',
      supplied_nhs_number: '999 000 0042',
      returned_nhs_number: '',
      detail: 'NHS number 999 000 0042 is INVALID on PDS: do not use it',
      warning: flagWarning('invalidated_record'),
    });
  });

  it('shows a supplied number that is not ten digits as the file holds it', async () => {
    const file = path.join(dir, 'c.back-office.csv');
    const report = await openBackOfficeReport(file);
    await report.write({
      rowNumber: 1,
      identity: identity({ nhsNumber: '9.99E+09' }),
      result: { rowNumber: 1, status: 'invalid_input', reason: 'nhs_number_excel_damaged', exchanges: [] },
      quality: { flags: ['duplicate_local_id'], discrepancies: [], related: {} },
    });
    await report.close();
    const { records } = await readReport(file);
    expect(records[0]).toMatchObject({ supplied_nhs_number: '9.99E+09', flag: 'duplicate_local_id', trace_status: 'invalid_input' });
  });

  it('lists a not_verified row, and one a fallback search then matched, with the warning that the number may be someone else\'s', async () => {
    const file = path.join(dir, 'c.back-office.csv');
    const report = await openBackOfficeReport(file);
    const flagged = { flags: ['not_verified_nhs_number'], discrepancies: [], related: {} };
    await report.write({
      rowNumber: 5,
      identity: identity(),
      suppliedNhsNumber: '9990000018',
      result: { rowNumber: 5, status: 'not_verified', reason: 'nhs_number_not_verified', responseCode: 'DEMOG-0040', exchanges: [] },
      quality: flagged,
    });
    await report.write({
      rowNumber: 6,
      identity: identity(),
      suppliedNhsNumber: '9990000018',
      result: { rowNumber: 6, status: 'matched', reason: 'ok', nhsNumber: '9990000026', fallbacks: ['search_when_not_verified'], exchanges: [] },
      quality: flagged,
    });
    await report.close();
    const { records } = await readReport(file);
    expect(records.map((r) => [r.row_number, r.flag, r.trace_status])).toEqual([
      ['5', 'not_verified_nhs_number', 'not_verified'],
      ['6', 'not_verified_nhs_number', 'matched'],
    ]);
    expect(records[0]).toMatchObject({
      supplied_nhs_number: '999 000 0018',
      warning: flagWarning('not_verified_nhs_number'),
      detail: 'NHS number 999 000 0018 is held on PDS for a patient with other details',
    });
    expect(records[0]!.warning).toContain('may belong to another person');
    expect(records[1]!.detail).toBe('NHS number 999 000 0018 is held on PDS for a patient with other details; a search by demographics (fallback) then gave matched: 999 000 0026');
  });

  it('leaves no file behind when aborted', async () => {
    const report = await openBackOfficeReport(path.join(dir, 'x.back-office.csv'));
    await report.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('discrepancy report', () => {
  it('writes one guarded line per difference, with both NHS numbers in 3-3-4 form', async () => {
    const file = path.join(dir, 'c.discrepancies.csv');
    const report = await openDiscrepancyReport(file, { bom: true });
    await report.write({
      rowNumber: 3,
      identity: identity(),
      suppliedNhsNumber: '9990000018',
      result: superseded,
      quality: {
        flags: ['demographic_discrepancy'],
        discrepancies: [{ field: 'family_name', local: '=Smith', pds: 'Smith' }, { field: 'date_of_death', pds: '2024-01-15' }],
        related: {},
      },
    });
    await report.write({ rowNumber: 4, identity: identity(), result: superseded, quality: { flags: [], discrepancies: [], related: {} } });
    await report.close();

    const bytes = await readFile(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { header, records } = await readReport(file);
    expect(header).toEqual([...DISCREPANCY_REPORT_COLUMNS, PROTECTIVE_MARKING_COLUMN]);
    expect(records).toEqual([
      { row_number: '3', local_id: 'L1', supplied_nhs_number: '999 000 0018', pds_nhs_number: '999 000 0026', field: 'family_name', local_value: "'=Smith", pds_value: 'Smith', protective_marking: NHS_CONFIDENTIAL_LABEL },
      { row_number: '3', local_id: 'L1', supplied_nhs_number: '999 000 0018', pds_nhs_number: '999 000 0026', field: 'date_of_death', local_value: '', pds_value: '2024-01-15', protective_marking: NHS_CONFIDENTIAL_LABEL },
    ]);
  });
});
