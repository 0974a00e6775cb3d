/**
 * Cohort rows with a known answer: for each outcome pds-trace can report, how to choose people from
 * the population and phrase a row so that PDS gives that outcome. A scenario proposes; the cohort
 * writer confirms each proposal against the directory and draws again when chance (two unrelated
 * people who happen to agree) spoils it, so the ground truth holds for every row.
 */

import type { PatientQuery } from '../../domain/demographics.js';
import { isValidNhsNumber } from '../../domain/nhs-number.js';
import type { ReasonCode } from '../../domain/reasons.js';
import { NO_FIXED_ABODE_POSTCODE } from './addresses.js';
import { dayToPdsDate, pdsDateSpan, REFERENCE_DAY } from './birth-dates.js';
import { MAX_POPULATION_SIZE } from './nhs-numbers.js';
import type { SyntheticPerson } from './person.js';
import type { Population } from './population.js';
import type { Rng } from './prng.js';

/** What PDS should answer to the traced row: the response code and the number it returns, if any. */
export interface PdsIntent {
  responseCode: 'SMSP-0000' | 'DEMOG-0001' | 'DEMOG-0007' | 'DEMOG-0017' | 'DEMOG-0022' | 'DEMOG-0040';
  nhsNumber?: string;
}

/** A proposed row: the query as pds-trace will send it, and either PDS's answer or the local rejection. */
export interface Proposal {
  query: PatientQuery;
  /** The person whose address the row's address columns take (the local system's copy). */
  person: SyntheticPerson;
  expect: { pds: PdsIntent } | { invalid: ReasonCode };
}

type Propose = (population: Population, rng: Rng) => Proposal | undefined;

/** Draws of an index before a scenario gives up for this row (rare kinds need a few hundred). */
const TRIES = 600;

function pickIndex(population: Population, rng: Rng, wanted: (index: number) => boolean): number | undefined {
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const index = rng.int(population.size);
    if (wanted(index)) return index;
  }
  return undefined;
}

const hasFullBirthDate = (population: Population, index: number) =>
  population.structure.partialBirthDatePrecision(population.structure.demographicSourceOf(index)) === undefined;

const isLiveWithFullDate = (population: Population) => (index: number) =>
  population.structure.statusOf(index) === 'live' && hasFullBirthDate(population, index);

/** The postcode a local record would hold: none for people of no fixed abode (ZZ99 3VZ is PDS's own pseudo-code). */
function homePostcode(person: SyntheticPerson): string | undefined {
  const postcode = person.addresses.find((a) => a.use === 'H')?.postcode;
  return postcode === NO_FIXED_ABODE_POSTCODE ? undefined : postcode;
}

/** Everything a row can say about a person; scenarios then drop or change fields. */
function fullQuery(person: SyntheticPerson): PatientQuery {
  return {
    nhsNumber: person.nhsNumber,
    familyName: person.familyName,
    givenName: person.givenNames[0],
    dateOfBirth: person.dateOfBirth,
    sex: person.sex,
    postcode: homePostcode(person),
  };
}

function withoutNhsNumber(query: PatientQuery): PatientQuery {
  const { nhsNumber: _dropped, ...rest } = query;
  return rest;
}

/** A different real date within a few years, so a cross-check on it fails. */
function otherBirthDate(dateOfBirth: string, rng: Rng): string {
  const day = pdsDateSpan(dateOfBirth)!.first;
  const shift = rng.between(30, 1500) * (rng.chance(0.5) ? 1 : -1);
  // Never later than the population's own present: a wrong date of birth after it would be in
  // the future on some day a cohort is traced, refused locally before PDS is asked.
  return dayToPdsDate(day + shift > REFERENCE_DAY ? day - Math.abs(shift) : day + shift);
}

function livePerson(population: Population, rng: Rng): SyntheticPerson | undefined {
  const index = pickIndex(population, rng, isLiveWithFullDate(population));
  return index === undefined ? undefined : population.person(index);
}

const verified: Propose = (population, rng) => {
  const person = livePerson(population, rng);
  if (!person) return undefined;
  const query = fullQuery(person);
  // Some local records lack a given name; the NHS number and birth date still verify.
  if (rng.chance(0.1)) delete query.givenName;
  return { query, person, expect: { pds: { responseCode: 'SMSP-0000', nhsNumber: person.nhsNumber } } };
};

const matched: Propose = (population, rng) => {
  const person = livePerson(population, rng);
  if (!person) return undefined;
  const query = withoutNhsNumber(fullQuery(person));
  if (rng.chance(0.2)) delete query.postcode;
  return { query, person, expect: { pds: { responseCode: 'SMSP-0000', nhsNumber: person.nhsNumber } } };
};

const multipleMatches: Propose = (population, rng) => {
  const index = pickIndex(population, rng, (i) => population.structure.twinGroupOf(i) !== undefined);
  if (index === undefined) return undefined;
  const person = population.person(index);
  const query = withoutNhsNumber(fullQuery(person));
  // Twins at different addresses are told apart by postcode, so the row leaves it out.
  if (!population.structure.twinGroupOf(index)!.sharedHousehold) delete query.postcode;
  return { query, person, expect: { pds: { responseCode: 'DEMOG-0007' } } };
};

const notInPdsByDemographics: Propose = (population, rng) => {
  const person = livePerson(population, rng);
  if (!person) return undefined;
  const query = withoutNhsNumber({ ...fullQuery(person), dateOfBirth: otherBirthDate(person.dateOfBirth, rng) });
  return { query, person, expect: { pds: { responseCode: 'DEMOG-0001' } } };
};

/** A valid test-range number this population never issued: past its size, or a group's spare number. */
function unissuedNumber(population: Population, rng: Rng): string | undefined {
  if (population.size < MAX_POPULATION_SIZE && rng.chance(0.5)) {
    return population.numbers.numberOf(population.size + rng.int(MAX_POPULATION_SIZE - population.size));
  }
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const spare = population.numbers.unissuedNumbers(rng.int(100_000))[0];
    if (spare) return spare;
  }
  return undefined;
}

const notInPdsByNumber: Propose = (population, rng) => {
  const person = livePerson(population, rng);
  const nhsNumber = unissuedNumber(population, rng);
  if (!person || !nhsNumber) return undefined;
  return { query: { ...fullQuery(person), nhsNumber }, person, expect: { pds: { responseCode: 'DEMOG-0001' } } };
};

const notVerified: Propose = (population, rng) => {
  const person = livePerson(population, rng);
  if (!person) return undefined;
  const query = { ...fullQuery(person), dateOfBirth: otherBirthDate(person.dateOfBirth, rng) };
  return { query, person, expect: { pds: { responseCode: 'DEMOG-0040' } } };
};

const superseded: Propose = (population, rng) => {
  const index = pickIndex(
    population,
    rng,
    (i) => population.structure.statusOf(i) === 'superseded' && hasFullBirthDate(population, i),
  );
  if (index === undefined) return undefined;
  // The old record duplicated the person it was merged into, so the row carries their details.
  const person = population.person(index);
  return {
    query: fullQuery(person),
    person,
    expect: { pds: { responseCode: 'DEMOG-0017', nhsNumber: person.supersededBy! } },
  };
};

const invalidated: Propose = (population, rng) => {
  const index = pickIndex(
    population,
    rng,
    (i) => population.structure.statusOf(i) === 'invalidated' && hasFullBirthDate(population, i),
  );
  if (index === undefined) return undefined;
  const person = population.person(index);
  return { query: fullQuery(person), person, expect: { pds: { responseCode: 'DEMOG-0022' } } };
};

const badCheckDigit: Propose = (population, rng) => {
  const person = livePerson(population, rng);
  if (!person) return undefined;
  // Any other last digit fails Modulus 11: a number has exactly one check digit (SPEC §9).
  const nhsNumber = `${person.nhsNumber.slice(0, 9)}${(Number(person.nhsNumber[9]) + rng.between(1, 9)) % 10}`;
  if (isValidNhsNumber(nhsNumber)) return undefined;
  return { query: { ...fullQuery(person), nhsNumber }, person, expect: { invalid: 'nhs_number_check_digit' } };
};

const missingFamilyName: Propose = (population, rng) => {
  const person = livePerson(population, rng);
  if (!person) return undefined;
  const { familyName: _dropped, ...query } = withoutNhsNumber(fullQuery(person));
  return { query, person, expect: { invalid: 'missing_family_name' } };
};

/** The mix of a cohort, roughly as a real extract might be: mostly verifiable, some messy. */
export const SCENARIOS = {
  verified: { weight: 0.38, propose: verified },
  matched: { weight: 0.24, propose: matched },
  multiple_matches: { weight: 0.06, propose: multipleMatches },
  no_match_demographics: { weight: 0.05, propose: notInPdsByDemographics },
  no_match_number: { weight: 0.04, propose: notInPdsByNumber },
  not_verified: { weight: 0.08, propose: notVerified },
  superseded: { weight: 0.05, propose: superseded },
  invalidated: { weight: 0.04, propose: invalidated },
  bad_check_digit: { weight: 0.03, propose: badCheckDigit },
  missing_family_name: { weight: 0.03, propose: missingFamilyName },
} as const satisfies Record<string, { weight: number; propose: Propose }>;

export type ScenarioKind = keyof typeof SCENARIOS;

export function drawScenarioKind(rng: Rng): ScenarioKind {
  let u = rng.next();
  for (const [kind, { weight }] of Object.entries(SCENARIOS) as [ScenarioKind, { weight: number }][]) {
    if (u < weight) return kind;
    u -= weight;
  }
  return 'verified';
}

/** The fallback when a scenario cannot be realised (a tiny population may hold no twins or merges). */
export const FALLBACK_SCENARIO: ScenarioKind = 'verified';
