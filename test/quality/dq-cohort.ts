/**
 * A cohort built to exercise the data-quality checks end to end (src/quality/): duplicate NHS
 * numbers (supplied twice, and supplied on one row but found by search on another), superseded
 * numbers with and without their replacement in the file, an invalidated number, deliberate
 * demographic differences from PDS, a repeated local id, and clean rows that must stay unflagged.
 *
 * People come from the simulator's synthetic population (test-range NHS numbers); every row's
 * expected status is confirmed against the same directory the simulator answers from, so the
 * ground truth holds whatever the seed.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { PatientQuery } from '../../src/domain/demographics.js';
import type { Interaction } from '../../src/domain/interaction.js';
import type { TraceStatus } from '../../src/domain/outcome.js';
import type { DiscrepancyField } from '../../src/domain/findings.js';
import type { DqFlag } from '../../src/domain/dq-flags.js';
import { createDirectory } from '../../src/simulator/directory.js';
import { NO_FIXED_ABODE_POSTCODE } from '../../src/simulator/population/addresses.js';
import type { SyntheticPerson } from '../../src/simulator/population/person.js';
import { createPopulation } from '../../src/simulator/population/population.js';

export const DQ_COHORT_COLUMNS = [
  'local_id',
  'nhs_number',
  'family_name',
  'given_name',
  'date_of_birth',
  'sex',
  'postcode',
  'address_line_1',
  'address_line_2',
  'gp_practice_code',
] as const;

type CohortRecord = Record<(typeof DQ_COHORT_COLUMNS)[number], string>;

export interface DqExpectation {
  rowNumber: number;
  localId: string;
  status: TraceStatus;
  /** The NHS number the results must report; empty when none. */
  nhsNumber: string;
  flags: DqFlag[];
  discrepancies: DiscrepancyField[];
  /** Related rows per flag, for the back-office report. */
  related: Partial<Record<DqFlag, number[]>>;
}

export interface DqCohort {
  csvPath: string;
  /** Ground truth in the shape of writeCohort's `<name>.expected.csv`. */
  expectedPath: string;
  rows: DqExpectation[];
}

/** A person a row can be written for: live or not, full date of birth, an address, not S-flagged. */
function usable(person: SyntheticPerson): boolean {
  const home = person.addresses.find((a) => a.use === 'H');
  return person.dateOfBirth.length === 8 && !person.sensitive && home?.postcode !== undefined && home.postcode !== NO_FIXED_ABODE_POSTCODE;
}

/** The row a local system holding this person's details would send, every field in agreement with PDS. */
function recordFor(person: SyntheticPerson, localId: string, withNhsNumber = true): CohortRecord {
  const home = person.addresses.find((a) => a.use === 'H')!;
  const [line1 = '', line2 = ''] = home.lines.filter((line) => line !== '');
  const dob = person.dateOfBirth;
  return {
    local_id: localId,
    nhs_number: withNhsNumber ? person.nhsNumber : '',
    family_name: person.familyName,
    given_name: person.givenNames[0] ?? '',
    date_of_birth: `${dob.slice(0, 4)}-${dob.slice(4, 6)}-${dob.slice(6, 8)}`,
    sex: person.sex,
    postcode: home.postcode!,
    address_line_1: line1,
    address_line_2: line2,
    gp_practice_code: person.gpPractice?.odsCode ?? '',
  };
}

function queryOf(record: CohortRecord): PatientQuery {
  return {
    ...(record.nhs_number ? { nhsNumber: record.nhs_number } : {}),
    familyName: record.family_name,
    ...(record.given_name ? { givenName: record.given_name } : {}),
    dateOfBirth: record.date_of_birth.replaceAll('-', ''),
    sex: record.sex as PatientQuery['sex'],
    postcode: record.postcode,
  };
}

/** Builds the cohort from the population the simulator serves (same seed and size) and writes it. */
export async function writeDqCohort(options: { seed: string; size: number; outDir: string; name: string }): Promise<DqCohort> {
  const population = createPopulation(options);
  const directory = createDirectory(options);
  const used = new Set<number>();

  /** The next unused person of the population that fits, scanning from a fixed place. */
  const pick = (wanted: (person: SyntheticPerson, index: number) => boolean): SyntheticPerson => {
    for (let index = 0; index < population.size; index++) {
      if (used.has(index)) continue;
      const person = population.person(index);
      if (usable(person) && wanted(person, index)) {
        used.add(index);
        return person;
      }
    }
    throw new Error('the population holds no person for this data-quality case; use a larger size');
  };
  const live = (extra: (p: SyntheticPerson) => boolean = () => true) =>
    pick((p) => p.record === 'live' && p.dateOfDeath === undefined && p.gpPractice !== undefined && extra(p));
  const replacementOf = (p: SyntheticPerson) => population.person(population.indexOf(p.supersededBy!)!);

  const records: CohortRecord[] = [];
  const rows: DqExpectation[] = [];
  const add = (record: CohortRecord, expected: Omit<DqExpectation, 'rowNumber' | 'localId' | 'related'>, related: DqExpectation['related'] = {}) => {
    records.push(record);
    rows.push({ rowNumber: records.length, localId: record.local_id, ...expected, related });
  };
  const id = () => `DQ${String(records.length + 1).padStart(4, '0')}`;

  // 1–2. Clean rows: verified, one with the formatting a local extract has (upper case, no postcode space).
  const clean = live();
  add(recordFor(clean, id()), { status: 'verified', nhsNumber: clean.nhsNumber, flags: [], discrepancies: [] });
  const shouty = live();
  const shoutyRecord = recordFor(shouty, id());
  add({ ...shoutyRecord, family_name: shoutyRecord.family_name.toUpperCase(), postcode: shoutyRecord.postcode.replace(' ', '') }, { status: 'verified', nhsNumber: shouty.nhsNumber, flags: [], discrepancies: [] });

  // 3, 5. The same NHS number supplied on two rows.
  const twice = live();
  const firstCopy = records.length + 1;
  add(recordFor(twice, id()), { status: 'verified', nhsNumber: twice.nhsNumber, flags: ['duplicate_nhs_number'], discrepancies: [] }, { duplicate_nhs_number: [firstCopy + 2] });
  // 4. A superseded number whose replacement is nowhere else in the file.
  const alone = pick((p) => p.record === 'superseded' && usable(replacementOf(p)) && !used.has(population.indexOf(p.supersededBy!)!));
  // Its replacement must not turn up on a later row.
  used.add(population.indexOf(alone.supersededBy!)!);
  add(recordFor(alone, id()), { status: 'superseded', nhsNumber: alone.supersededBy!, flags: ['superseded_nhs_number'], discrepancies: [] });
  add(recordFor(twice, id()), { status: 'verified', nhsNumber: twice.nhsNumber, flags: ['duplicate_nhs_number'], discrepancies: [] }, { duplicate_nhs_number: [firstCopy] });

  // 6–7. A number supplied on one row, and found by a demographic search on another.
  const searched = live((p) => {
    const answer = directory.answer('getPatientDetailsBySearch', queryOf(recordFor(p, 'probe', false)));
    return answer.responseCode === 'SMSP-0000' && answer.nhsNumber === p.nhsNumber;
  });
  const supplied = records.length + 1;
  add(recordFor(searched, id()), { status: 'verified', nhsNumber: searched.nhsNumber, flags: ['duplicate_nhs_number'], discrepancies: [] }, { duplicate_nhs_number: [supplied + 1] });
  add(recordFor(searched, id(), false), { status: 'matched', nhsNumber: searched.nhsNumber, flags: ['duplicate_nhs_number'], discrepancies: [] }, { duplicate_nhs_number: [supplied] });

  // 8, 10. A superseded number whose replacement another row already holds: both to merge review.
  const merged = pick((p) => {
    if (p.record !== 'superseded') return false;
    const replacement = replacementOf(p);
    return usable(replacement) && replacement.dateOfDeath === undefined && !used.has(population.indexOf(replacement.nhsNumber)!);
  });
  const replacement = replacementOf(merged);
  used.add(population.indexOf(replacement.nhsNumber)!);
  const oldRow = records.length + 1;
  add(recordFor(merged, id()), { status: 'superseded', nhsNumber: replacement.nhsNumber, flags: ['superseded_replacement_in_file'], discrepancies: [] }, { superseded_replacement_in_file: [oldRow + 2] });
  // 9. An invalidated number.
  const invalid = pick((p) => p.record === 'invalidated');
  add(recordFor(invalid, id()), { status: 'invalidated', nhsNumber: '', flags: ['invalidated_record'], discrepancies: [] });
  add(recordFor(replacement, id()), { status: 'verified', nhsNumber: replacement.nhsNumber, flags: ['superseded_replacement_in_file'], discrepancies: [] }, { superseded_replacement_in_file: [oldRow] });

  // 11. Sex, postcode and address differ (a cross-check by number looks at neither).
  const moved = live();
  const elsewhere = live((p) => recordFor(p, 'x').postcode !== recordFor(moved, 'x').postcode);
  const movedRecord = recordFor(moved, id());
  add(
    { ...movedRecord, sex: moved.sex === '1' ? '2' : '1', postcode: recordFor(elsewhere, 'x').postcode, address_line_1: '99 Nowhere Lane' },
    { status: 'verified', nhsNumber: moved.nhsNumber, flags: ['demographic_discrepancy'], discrepancies: ['sex', 'postcode', 'address'] },
  );
  // 12. The middle name held as the given name.
  const middle = live((p) => p.givenNames.length >= 2);
  add({ ...recordFor(middle, id()), given_name: middle.givenNames[1]! }, { status: 'verified', nhsNumber: middle.nhsNumber, flags: ['demographic_discrepancy'], discrepancies: ['given_name'] });
  // 13. PDS records a date of death the file has no column for: a finding of its own, not a discrepancy.
  const died = pick((p) => p.record === 'live' && p.dateOfDeath !== undefined);
  add(recordFor(died, id()), { status: 'verified', nhsNumber: died.nhsNumber, flags: ['pds_date_of_death'], discrepancies: [] });
  // 14. Another GP practice locally.
  const gp = live();
  add({ ...recordFor(gp, id()), gp_practice_code: 'Y99999' }, { status: 'verified', nhsNumber: gp.nhsNumber, flags: ['demographic_discrepancy'], discrepancies: ['gp_practice'] });

  // 15. A local id already used by row 1: flagged by the reader, the row still traced.
  const reused = live();
  add(recordFor(reused, records[0]!.local_id), { status: 'verified', nhsNumber: reused.nhsNumber, flags: ['duplicate_local_id'], discrepancies: [] });
  // 16. A number that fails Modulus 11: rejected, and no findings.
  const typo = live();
  const typoRecord = recordFor(typo, id());
  const badNumber = `${typo.nhsNumber.slice(0, 9)}${(Number(typo.nhsNumber[9]) + 1) % 10}`;
  add({ ...typoRecord, nhs_number: badNumber }, { status: 'invalid_input', nhsNumber: '', flags: [], discrepancies: [] });

  confirmStatuses(records, rows, directory);
  const csvPath = path.join(options.outDir, `${options.name}.csv`);
  const expectedPath = path.join(options.outDir, `${options.name}.expected.csv`);
  await writeFile(csvPath, stringify(records, { header: true, columns: [...DQ_COHORT_COLUMNS] }));
  await writeFile(
    expectedPath,
    stringify(
      rows.map((r) => ({ row_number: r.rowNumber, local_id: r.localId, expected_status: r.status, expected_nhs_number: r.nhsNumber })),
      { header: true, columns: ['row_number', 'local_id', 'expected_status', 'expected_nhs_number'] },
    ),
  );
  return { csvPath, expectedPath, rows };
}

const STATUS_BY_CODE: Readonly<Record<string, TraceStatus>> = {
  'SMSP-0000': 'verified',
  'DEMOG-0017': 'superseded',
  'DEMOG-0022': 'invalidated',
};

/** The directory gives each traced row the answer its expectation says (the default strategy's interaction). */
function confirmStatuses(records: CohortRecord[], rows: DqExpectation[], directory: ReturnType<typeof createDirectory>): void {
  records.forEach((record, i) => {
    const want = rows[i]!;
    if (want.status === 'invalid_input') return;
    const query = queryOf(record);
    const interaction: Interaction = query.nhsNumber ? 'getPatientDetailsByNHSNumber' : 'getPatientDetailsBySearch';
    const answer = directory.answer(interaction, query);
    const status = query.nhsNumber ? STATUS_BY_CODE[answer.responseCode] : answer.responseCode === 'SMSP-0000' ? 'matched' : undefined;
    if (status !== want.status || (answer.nhsNumber ?? '') !== want.nhsNumber) {
      throw new Error(`data-quality cohort row ${want.rowNumber}: the directory answers ${answer.responseCode}, not ${want.status}`);
    }
  });
}
