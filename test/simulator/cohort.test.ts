import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PatientQuery, SexCode } from '../../src/domain/demographics.js';
import { isValidNhsNumber } from '../../src/domain/nhs-number.js';
import { responseCodeRule } from '../../src/smsp/response-codes.js';
import { cohortRows, COHORT_COLUMNS, EXPECTED_COLUMNS, writeCohort } from '../../src/simulator/cohort.js';
import { createDirectory, type PdsDirectory } from '../../src/simulator/directory.js';

const POPULATION = { seed: 'cohort-test', size: 20_000 };

type Row = Record<string, string>;

/** How pds-trace reads a cohort row (independently of the generator): ISO date, M/F, postcode spacing. */
function queryFromRow(row: Row): PatientQuery {
  const sexes: Record<string, SexCode> = { M: '1', F: '2', '0': '0', '1': '1', '2': '2', '9': '9' };
  const compactPostcode = row.postcode!.replace(/\s+/g, '').toUpperCase();
  const query: PatientQuery = { dateOfBirth: row.date_of_birth!.replaceAll('-', ''), localId: row.local_id };
  if (row.nhs_number) query.nhsNumber = row.nhs_number;
  if (row.family_name) query.familyName = row.family_name;
  if (row.given_name) query.givenName = row.given_name;
  if (row.sex) query.sex = sexes[row.sex.toUpperCase()];
  if (compactPostcode) query.postcode = `${compactPostcode.slice(0, -3)} ${compactPostcode.slice(-3)}`;
  return query;
}

/** pds-trace's default strategy for one row: local checks, then byNHSNumber or bySearch. */
function traceWithDefaultStrategy(directory: PdsDirectory, row: Row): { status: string; nhsNumber: string; reason: string } {
  const query = queryFromRow(row);
  if (query.nhsNumber && !isValidNhsNumber(query.nhsNumber)) return { status: 'invalid_input', nhsNumber: '', reason: 'nhs_number_check_digit' };
  if (!query.nhsNumber && !query.familyName) return { status: 'invalid_input', nhsNumber: '', reason: 'missing_family_name' };
  const interaction = query.nhsNumber ? 'getPatientDetailsByNHSNumber' : 'getPatientDetailsBySearch';
  const answer = directory.answer(interaction, query);
  const rule = responseCodeRule(answer.responseCode);
  const status = rule.status === 'success' ? (query.nhsNumber ? 'verified' : 'matched') : rule.status;
  return { status, nhsNumber: ['verified', 'matched', 'superseded'].includes(status) ? (answer.nhsNumber ?? '') : '', reason: rule.reason };
}

describe('cohort export with ground truth', () => {
  let dir: string;
  let rows: Row[];
  let expected: Row[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pds-cohort-'));
    const { csvPath, expectedPath } = await writeCohort({ ...POPULATION, rows: 3_000, outDir: dir, name: 'truth' });
    expect(path.basename(csvPath)).toBe('truth.csv');
    expect(path.basename(expectedPath)).toBe('truth.expected.csv');
    rows = parse(await readFile(csvPath, 'utf8'), { columns: true }) as Row[];
    expected = parse(await readFile(expectedPath, 'utf8'), { columns: true }) as Row[];
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the documented headers and one expected row per cohort row, in order', async () => {
    const [csvHeader] = (await readFile(path.join(dir, 'truth.csv'), 'utf8')).split('\n');
    const [expectedHeader] = (await readFile(path.join(dir, 'truth.expected.csv'), 'utf8')).split('\n');
    expect(csvHeader).toBe('local_id,nhs_number,family_name,given_name,date_of_birth,sex,postcode,address_line_1,address_line_2');
    expect(expectedHeader).toBe('row_number,local_id,expected_status,expected_nhs_number,expected_reason');
    expect(COHORT_COLUMNS.join(',')).toBe(csvHeader);
    expect(EXPECTED_COLUMNS.join(',')).toBe(expectedHeader);
    expect(rows).toHaveLength(3_000);
    expect(expected).toHaveLength(3_000);
    expected.forEach((truth, i) => {
      expect(truth.row_number).toBe(String(i + 1));
      expect(truth.local_id).toBe(rows[i]!.local_id);
    });
  });

  it('agrees with what the simulator answers for every row under the default strategy', () => {
    const directory = createDirectory(POPULATION);
    const disagreements = rows.flatMap((row, i) => {
      const actual = traceWithDefaultStrategy(directory, row);
      const truth = expected[i]!;
      const wanted = { status: truth.expected_status, nhsNumber: truth.expected_nhs_number, reason: truth.expected_reason };
      return JSON.stringify(actual) === JSON.stringify(wanted) ? [] : [{ row: i + 1, actual, wanted }];
    });
    expect(disagreements).toEqual([]);
  });

  it('mixes every outcome, including both kinds of locally invalid row', () => {
    const counts = new Map<string, number>();
    for (const truth of expected) {
      const key = truth.expected_status === 'invalid_input' ? `invalid_input:${truth.expected_reason}` : truth.expected_status!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const key of [
      'verified',
      'matched',
      'multiple_matches',
      'no_match',
      'not_verified',
      'superseded',
      'invalidated',
      'invalid_input:nhs_number_check_digit',
      'invalid_input:missing_family_name',
    ]) {
      expect(counts.get(key) ?? 0, key).toBeGreaterThan(20);
    }
    expect(counts.get('verified')!).toBeGreaterThan(counts.get('no_match')!);
  });

  it('gives the replacement number for superseded rows and the supplied one for verified rows', () => {
    rows.forEach((row, i) => {
      const truth = expected[i]!;
      if (truth.expected_status === 'verified') expect(truth.expected_nhs_number).toBe(row.nhs_number);
      if (truth.expected_status === 'superseded') {
        expect(isValidNhsNumber(truth.expected_nhs_number!)).toBe(true);
        expect(truth.expected_nhs_number).not.toBe(row.nhs_number);
      }
      if (['no_match', 'multiple_matches', 'not_verified', 'invalidated', 'invalid_input'].includes(truth.expected_status!)) {
        expect(truth.expected_nhs_number).toBe('');
      }
    });
  });

  it('phrases rows as real extracts do: ISO dates, M/F and code sexes, postcodes with and without the space', () => {
    expect(rows.every((r) => /^\d{4}-\d{2}-\d{2}$/.test(r.date_of_birth!))).toBe(true);
    const sexes = new Set(rows.map((r) => r.sex));
    for (const sex of ['1', '2', 'M', 'F']) expect(sexes.has(sex)).toBe(true);
    expect(rows.some((r) => /^[A-Z]{1,2}\d{1,2} \d[A-Z]{2}$/.test(r.postcode!))).toBe(true);
    expect(rows.some((r) => /^[A-Z]{1,2}\d{1,2}\d[A-Z]{2}$/.test(r.postcode!))).toBe(true);
    expect(rows.some((r) => r.family_name!.includes("'") || /[À-ÿ]/.test(r.family_name! + r.given_name!))).toBe(true);
    expect(rows.every((r) => r.nhs_number === '' || r.nhs_number!.startsWith('999'))).toBe(true);
  });

  it('writes the same files for the same seed and different ones for another seed', async () => {
    await writeCohort({ ...POPULATION, rows: 300, outDir: dir, name: 'again-1' });
    await writeCohort({ ...POPULATION, rows: 300, outDir: dir, name: 'again-2' });
    await writeCohort({ ...POPULATION, seed: 'other-seed', rows: 300, outDir: dir, name: 'other' });
    const read = (name: string) => readFile(path.join(dir, name), 'utf8');
    expect(await read('again-1.csv')).toBe(await read('again-2.csv'));
    expect(await read('again-1.expected.csv')).toBe(await read('again-2.expected.csv'));
    expect(await read('other.csv')).not.toBe(await read('again-1.csv'));
  });

  it('draws rows lazily, so a million-row cohort starts without preparing the rest', () => {
    const started = performance.now();
    const first: string[] = [];
    for (const { row } of cohortRows({ ...POPULATION, rows: 1_000_000 })) {
      first.push(row.local_id);
      if (first.length === 5) break;
    }
    expect(first).toEqual(['L0000001', 'L0000002', 'L0000003', 'L0000004', 'L0000005']);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
