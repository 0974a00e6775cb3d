import { describe, expect, it } from 'vitest';
import type { InputRow } from '../../src/csv/input/types.js';
import type { PdsPatient } from '../../src/domain/demographics.js';
import type { RowResult } from '../../src/domain/row-result.js';
import { NhsNumberIndex, rowNhsNumbers } from '../../src/quality/duplicates.js';
import { localColumns } from '../../src/quality/local-record.js';
import { assessRow, type QualityContext } from '../../src/quality/row-quality.js';

const NHS = { a: '9990000018', b: '9990000026', c: '9990000034', d: '9990000042' } as const;
const HEADERS = ['id', 'nhs', 'surname', 'dob', 'postcode'];
const FIELDS = { localId: 0, nhsNumber: 1, familyName: 2, dateOfBirth: 3, postcode: 4 };

function patient(nhsNumber: string, overrides: Partial<PdsPatient> = {}): PdsPatient {
  return { nhsNumber, givenNames: ['Ada'], familyName: 'Testpatient', sex: '2', dateOfBirth: '19800704', addresses: [{ use: 'H', lines: ['1 Road'], postcode: 'LS1 6AE' }], telecoms: [], ...overrides };
}

interface Case {
  row: InputRow;
  result: RowResult;
}

function verifiedRow(rowNumber: number, nhsNumber: string, postcode = 'LS1 6AE', flags: string[] = []): Case {
  return {
    row: { rowNumber, line: rowNumber + 1, cells: [`L${rowNumber}`, nhsNumber, 'Testpatient', '1980-07-04', postcode], flags, query: { nhsNumber, familyName: 'Testpatient', dateOfBirth: '19800704', postcode } },
    result: { rowNumber, status: 'verified', reason: 'ok', nhsNumber, patient: patient(nhsNumber), exchanges: [] },
  };
}

function supersededRow(rowNumber: number, old: string, replacement: string): Case {
  return {
    row: { rowNumber, line: rowNumber + 1, cells: [`L${rowNumber}`, old, 'Testpatient', '1980-07-04', 'LS1 6AE'], flags: [], query: { nhsNumber: old, familyName: 'Testpatient', dateOfBirth: '19800704', postcode: 'LS1 6AE' } },
    result: { rowNumber, status: 'superseded', reason: 'nhs_number_superseded', nhsNumber: replacement, supersededNhsNumber: old, patient: patient(replacement), exchanges: [] },
  };
}

function invalidatedRow(rowNumber: number, nhsNumber: string): Case {
  const { row } = verifiedRow(rowNumber, nhsNumber);
  return { row, result: { rowNumber, status: 'invalidated', reason: 'nhs_number_invalidated', responseCode: 'DEMOG-0022', exchanges: [] } };
}

function contextFor(cases: Case[]): QualityContext {
  const index = new NhsNumberIndex();
  for (const { row, result } of cases) index.add(row.rowNumber, rowNhsNumbers(row.query, result));
  index.seal();
  return { index, columns: localColumns({ headers: HEADERS, fields: FIELDS }), dates: { dayFirst: true, today: new Date('2025-06-01T00:00:00Z') } };
}

describe('assessRow', () => {
  it('flags nothing on a clean verified row', () => {
    const cases = [verifiedRow(1, NHS.a)];
    expect(assessRow(cases[0]!.row, cases[0]!.result, contextFor(cases))).toEqual({ flags: [], discrepancies: [], related: {} });
  });

  it('flags both rows of a duplicate NHS number with each other, and keeps the reader\'s flags', () => {
    const cases = [verifiedRow(1, NHS.a), verifiedRow(2, NHS.a, 'LS1 6AE', ['duplicate_local_id'])];
    const context = contextFor(cases);
    expect(assessRow(cases[0]!.row, cases[0]!.result, context)).toMatchObject({ flags: ['duplicate_nhs_number'], related: { duplicate_nhs_number: { rows: [2], more: false } } });
    expect(assessRow(cases[1]!.row, cases[1]!.result, context)).toMatchObject({ flags: ['duplicate_nhs_number', 'duplicate_local_id'], related: { duplicate_nhs_number: { rows: [1], more: false } } });
  });

  it('advises replacing a superseded number whose replacement is not in the file', () => {
    const cases = [supersededRow(1, NHS.a, NHS.b), verifiedRow(2, NHS.c)];
    expect(assessRow(cases[0]!.row, cases[0]!.result, contextFor(cases)).flags).toEqual(['superseded_nhs_number']);
  });

  it('refers a superseded row and the row holding its replacement to a merge, instead of advising a replacement', () => {
    const cases = [supersededRow(1, NHS.a, NHS.b), verifiedRow(2, NHS.b)];
    const context = contextFor(cases);
    expect(assessRow(cases[0]!.row, cases[0]!.result, context)).toMatchObject({ flags: ['superseded_replacement_in_file'], related: { superseded_replacement_in_file: { rows: [2] } } });
    expect(assessRow(cases[1]!.row, cases[1]!.result, context)).toMatchObject({ flags: ['superseded_replacement_in_file'], related: { superseded_replacement_in_file: { rows: [1] } } });
  });

  it('flags an invalidated record and compares nothing, PDS having returned no record', () => {
    const cases = [invalidatedRow(1, NHS.d)];
    expect(assessRow(cases[0]!.row, cases[0]!.result, contextFor(cases))).toEqual({ flags: ['invalidated_record'], discrepancies: [], related: {} });
  });

  it('flags a demographic discrepancy with the differences', () => {
    const cases = [verifiedRow(1, NHS.a, 'LS2 7AA')];
    expect(assessRow(cases[0]!.row, cases[0]!.result, contextFor(cases))).toEqual({
      flags: ['demographic_discrepancy'],
      discrepancies: [{ field: 'postcode', local: 'LS2 7AA', pds: 'LS1 6AE' }],
      related: {},
    });
  });

  it('flags a death PDS records when the file has no date-of-death column, as a finding and not a discrepancy', () => {
    const cases = [verifiedRow(1, NHS.a)];
    const died = { ...cases[0]!.result, patient: patient(NHS.a, { dateOfDeath: '20240115' }) };
    expect(assessRow(cases[0]!.row, died, contextFor(cases))).toEqual({ flags: ['pds_date_of_death'], discrepancies: [], related: {} });
  });

  it('reports differing dates of death as a discrepancy when the file has a date-of-death column', () => {
    const headers = [...HEADERS, 'date_of_death'];
    const context = { ...contextFor([verifiedRow(1, NHS.a)]), columns: localColumns({ headers, fields: FIELDS }) };
    const died = (cell: string): Case => {
      const { row, result } = verifiedRow(1, NHS.a);
      return { row: { ...row, cells: [...row.cells, cell] }, result: { ...result, patient: patient(NHS.a, { dateOfDeath: '20240115' }) } };
    };
    const other = died('16/01/2024');
    expect(assessRow(other.row, other.result, context)).toEqual({
      flags: ['demographic_discrepancy'],
      discrepancies: [{ field: 'date_of_death', local: '2024-01-16', pds: '2024-01-15' }],
      related: {},
    });
    const same = died('15/01/2024');
    expect(assessRow(same.row, same.result, context)).toEqual({ flags: [], discrepancies: [], related: {} });
  });

  it('flags a supplied number PDS did not verify, also when a fallback search then found someone', () => {
    const { row } = verifiedRow(1, NHS.a);
    const notVerified: RowResult = { rowNumber: 1, status: 'not_verified', reason: 'nhs_number_not_verified', responseCode: 'DEMOG-0040', exchanges: [] };
    expect(assessRow(row, notVerified, contextFor([{ row, result: notVerified }])).flags).toEqual(['not_verified_nhs_number']);
    const searched: RowResult = { rowNumber: 1, status: 'matched', reason: 'ok', nhsNumber: NHS.b, patient: patient(NHS.b), fallbacks: ['search_when_not_verified'], exchanges: [] };
    expect(assessRow(row, searched, contextFor([{ row, result: searched }])).flags).toEqual(['not_verified_nhs_number']);
  });
});
