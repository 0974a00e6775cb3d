/**
 * Cohort CSVs with ground truth: rows a pds-trace user might submit, drawn from a synthetic
 * population, and for every row the outcome pds-trace's default strategy must report (a row with a
 * valid NHS number is traced with getPatientDetailsByNHSNumber, a row without one with
 * getPatientDetailsBySearch; invalid rows never reach PDS). Deterministic for a seed, and streamed:
 * a cohort of a million rows never sits in memory.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import type { PatientQuery } from '../domain/demographics.js';
import type { Interaction } from '../domain/interaction.js';
import type { TraceStatus } from '../domain/outcome.js';
import { responseCodeRule } from '../smsp/response-codes.js';
import { createDirectory, type PdsDirectory } from './directory.js';
import { CohortDrawError } from './population/errors.js';
import type { SyntheticPerson } from './population/person.js';
import { createPopulation, type Population } from './population/population.js';
import { Rng, STREAMS } from './population/prng.js';
import { drawScenarioKind, FALLBACK_SCENARIO, SCENARIOS, type Proposal } from './population/scenarios.js';

export const COHORT_COLUMNS = [
  'local_id',
  'nhs_number',
  'family_name',
  'given_name',
  'date_of_birth',
  'sex',
  'postcode',
  'address_line_1',
  'address_line_2',
] as const;

export const EXPECTED_COLUMNS = ['row_number', 'local_id', 'expected_status', 'expected_nhs_number', 'expected_reason'] as const;

export type CohortRow = Record<(typeof COHORT_COLUMNS)[number], string>;

export interface ExpectedRow {
  row_number: number;
  local_id: string;
  expected_status: TraceStatus;
  /** The number pds-trace should report (verified, matched, superseded); empty otherwise. */
  expected_nhs_number: string;
  /** A reason code from src/domain/reasons.ts. */
  expected_reason: string;
}

export interface CohortOptions {
  seed: string | number;
  /** Size of the population the rows are drawn from (the simulator must serve the same seed and size). */
  size: number;
  rows: number;
}

/** Proposals per row before falling back to a verifiable row; chance collisions are rare, so a few suffice. */
const PROPOSALS_PER_ROW = 20;

/** The interaction pds-trace's default strategy uses for a row that passed local checks. */
function defaultInteraction(query: PatientQuery): Interaction {
  return query.nhsNumber ? 'getPatientDetailsByNHSNumber' : 'getPatientDetailsBySearch';
}

/**
 * The outcome pds-trace reports for a proposal, when PDS answers as the scenario intends; undefined
 * when it does not (two people agreed by chance), so the caller proposes again.
 */
function confirmedOutcome(proposal: Proposal, directory: PdsDirectory): Omit<ExpectedRow, 'row_number' | 'local_id'> | undefined {
  if ('invalid' in proposal.expect) {
    return { expected_status: 'invalid_input', expected_nhs_number: '', expected_reason: proposal.expect.invalid };
  }
  const intent = proposal.expect.pds;
  const interaction = defaultInteraction(proposal.query);
  const answer = directory.answer(interaction, proposal.query);
  if (answer.responseCode !== intent.responseCode || answer.nhsNumber !== intent.nhsNumber) return undefined;
  // Same mapping as the client's (src/smsp/to-outcome.ts): success is verified by number, matched by search.
  const rule = responseCodeRule(answer.responseCode);
  const status = rule.status === 'success' ? (interaction === 'getPatientDetailsByNHSNumber' ? 'verified' : 'matched') : rule.status;
  return { expected_status: status, expected_nhs_number: answer.nhsNumber ?? '', expected_reason: rule.reason };
}

function propose(population: Population, directory: PdsDirectory, rng: Rng, rowNumber: number) {
  for (const kind of [drawScenarioKind(rng), FALLBACK_SCENARIO]) {
    for (let attempt = 0; attempt < PROPOSALS_PER_ROW; attempt++) {
      const proposal = SCENARIOS[kind].propose(population, rng);
      const outcome = proposal && confirmedOutcome(proposal, directory);
      if (proposal && outcome) return { proposal, outcome };
    }
  }
  throw new CohortDrawError(rowNumber);
}

/** Letters many extracts use for the two common sex codes. */
const LETTER_SEX: Readonly<Partial<Record<string, string>>> = { '1': 'M', '2': 'F' };

/** Phrases a query as a local extract would: ISO dates, M/F or code sexes, names and postcodes as typed. */
function renderRow(localId: string, query: PatientQuery, person: SyntheticPerson, rng: Rng): CohortRow {
  const dob = query.dateOfBirth;
  const sex = query.sex ?? '';
  const postcode = query.postcode ?? '';
  const home = person.addresses.find((a) => a.use === 'H');
  const [line1 = '', line2 = ''] = (home?.lines ?? []).filter((line) => line !== '');
  return {
    local_id: localId,
    nhs_number: query.nhsNumber ?? '',
    family_name: query.familyName && rng.chance(0.15) ? query.familyName.toUpperCase() : (query.familyName ?? ''),
    given_name: query.givenName ?? '',
    date_of_birth: `${dob.slice(0, 4)}-${dob.slice(4, 6)}-${dob.slice(6, 8)}`,
    sex: LETTER_SEX[sex] !== undefined && rng.chance(0.2) ? LETTER_SEX[sex] : sex,
    // PDS tolerates spacing (SPEC §4.4); some extracts drop the space.
    postcode: rng.chance(0.1) ? postcode.replace(' ', '') : postcode,
    address_line_1: line1,
    address_line_2: line2,
  };
}

/** The cohort's rows and their expected outcomes, one at a time, in row order. */
export function* cohortRows(options: CohortOptions): Generator<{ row: CohortRow; expected: ExpectedRow }> {
  const population = createPopulation({ seed: options.seed, size: options.size });
  const directory = createDirectory({ seed: options.seed, size: options.size });
  for (let rowNumber = 1; rowNumber <= options.rows; rowNumber++) {
    const rng = new Rng(population.seedHash, rowNumber, STREAMS.cohort);
    const localId = `L${String(rowNumber).padStart(7, '0')}`;
    const { proposal, outcome } = propose(population, directory, rng, rowNumber);
    const row = renderRow(localId, { ...proposal.query, localId }, proposal.person, rng);
    yield { row, expected: { row_number: rowNumber, local_id: localId, ...outcome } };
  }
}

async function writeRecord(stringifier: Stringifier, record: object): Promise<void> {
  if (!stringifier.write(record)) await once(stringifier, 'drain');
}

/**
 * Writes `<name>.csv` (the rows) and `<name>.expected.csv` (their ground truth) into `outDir`,
 * streaming both.
 */
export async function writeCohort(
  options: CohortOptions & { outDir: string; name?: string },
): Promise<{ csvPath: string; expectedPath: string }> {
  const name = options.name ?? 'cohort';
  await mkdir(options.outDir, { recursive: true });
  const csvPath = path.join(options.outDir, `${name}.csv`);
  const expectedPath = path.join(options.outDir, `${name}.expected.csv`);
  const rows = stringify({ header: true, columns: [...COHORT_COLUMNS] });
  const expected = stringify({ header: true, columns: [...EXPECTED_COLUMNS] });
  const written = Promise.all([
    pipeline(rows, createWriteStream(csvPath, { encoding: 'utf8' })),
    pipeline(expected, createWriteStream(expectedPath, { encoding: 'utf8' })),
  ]);
  try {
    for (const { row, expected: truth } of cohortRows(options)) {
      await writeRecord(rows, row);
      await writeRecord(expected, truth);
    }
  } finally {
    rows.end();
    expected.end();
    // Rethrows a file error; after a generation error, waits for the files to close first.
    await written;
  }
  return { csvPath, expectedPath };
}
