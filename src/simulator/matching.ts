/**
 * How the simulated PDS answers a query, as SMSP does it (shared/smsp/SPEC.md §6.1, §7): only a
 * single, unique, exact match is returned; none is DEMOG-0001, several DEMOG-0007; a supplied NHS
 * number is cross-checked against the date of birth (and names when given). Pure: the people come
 * from a `PersonSource` (population/person-source.ts), generated or loaded from a file, and both
 * answer through these rules.
 */

import type { PatientQuery, PdsDate, PdsPatient } from '../domain/demographics.js';
import { isValidNhsNumber } from '../domain/nhs-number.js';
import type { Interaction } from '../domain/interaction.js';
import type { PersonCore, SyntheticPerson } from './population/person.js';
import type { PersonSource } from './population/person-source.js';

export interface SimulatedAnswer {
  /** 'SMSP-0000' | 'DEMOG-0001' | 'DEMOG-0007' | 'DEMOG-0017' | 'DEMOG-0022' | 'DEMOG-0040' | 'DEMOG-0042' */
  responseCode: string;
  /** The number to return in subject/patient/id (the replacement for DEMOG-0017). */
  nhsNumber?: string;
  /** verifyNHSNumber only. */
  verified?: boolean;
  /** Details interactions only; sensitive patients already redacted. */
  patient?: PdsPatient;
  /** Echo of the query's local id when the answer carries a subject. */
  localId?: string;
}

/** Interactions that return the person's details (COMT_MT000016GB01, SPEC §5.5). */
const DETAILS_INTERACTIONS: ReadonlySet<Interaction> = new Set([
  'getPatientDetailsByNHSNumber',
  'getPatientDetailsBySearch',
  'getPatientDetails',
]);

/** Minimum characters before a trailing wildcard (SPEC §4.4, the OIH validators' rule). */
const MIN_WILDCARD_PREFIX = 2;

/** Whether the interaction looks the person up by the NHS number given (a cross-check), rather than searching. */
export function isNhsNumberLookup(interaction: Interaction, query: PatientQuery): boolean {
  if (interaction === 'verifyNHSNumber' || interaction === 'getPatientDetailsByNHSNumber') return true;
  return interaction === 'getPatientDetails' && Boolean(query.nhsNumber);
}

export function answerQuery(source: PersonSource, interaction: Interaction, query: PatientQuery): SimulatedAnswer {
  return isNhsNumberLookup(interaction, query)
    ? answerByNhsNumber(source, interaction, query)
    : answerBySearch(source, interaction, query);
}

function answerByNhsNumber(source: PersonSource, interaction: Interaction, query: PatientQuery): SimulatedAnswer {
  const nhsNumber = query.nhsNumber ?? '';
  if (!isValidNhsNumber(nhsNumber)) return { responseCode: 'DEMOG-0042' };
  const record = source.lookup(nhsNumber);
  switch (record.kind) {
    case 'unknown':
      return { responseCode: 'DEMOG-0001' };
    case 'invalidated':
      return { responseCode: 'DEMOG-0022' };
    case 'superseded':
      // The replacement "is being returned" (SPEC §6.1); PDS answers the merge whatever details
      // came with the old number, so no cross-check here.
      return found('DEMOG-0017', record.replacement, interaction, query);
    case 'live':
      return crossCheckPasses(record.person, query)
        ? found('SMSP-0000', record.person, interaction, query)
        : { responseCode: 'DEMOG-0040' };
  }
}

/** Cross Check Trace (SPEC §7): the birth date must agree, and each name given must be the person's. */
function crossCheckPasses(person: PersonCore, query: PatientQuery): boolean {
  if (!datesAgree(person.dateOfBirth, query.dateOfBirth)) return false;
  if (query.familyName && !textMatches(person.familyName, query.familyName, false)) return false;
  if (query.givenName && !person.givenNames.some((name) => textMatches(name, query.givenName!, false))) return false;
  return true;
}

function answerBySearch(source: PersonSource, interaction: Interaction, query: PatientQuery): SimulatedAnswer {
  // Simple/Advanced Trace needs surname, gender and birth date (SPEC §7, TRCLCL-2); without them
  // no trace can run and so nobody is found (the simulator's protocol checks reject such requests first).
  if (!query.familyName || !query.sex || !query.dateOfBirth) return { responseCode: 'DEMOG-0001' };
  let match: SyntheticPerson | undefined;
  for (const candidate of source.searchCandidates(query.dateOfBirth)) {
    if (!coreMatches(candidate.core, query)) continue;
    const person = candidate.person();
    if (query.postcode && !person.addresses.some((a) => a.postcode && postcodeMatches(a.postcode, query.postcode!))) continue;
    // Only a single, unique match is ever returned (SPEC §7): a second one ends the search.
    if (match) return { responseCode: 'DEMOG-0007' };
    match = person;
  }
  return match ? found('SMSP-0000', match, interaction, query) : { responseCode: 'DEMOG-0001' };
}

function coreMatches(core: PersonCore, query: PatientQuery): boolean {
  return (
    core.sex === query.sex &&
    datesAgree(core.dateOfBirth, query.dateOfBirth) &&
    textMatches(core.familyName, query.familyName!, true) &&
    (!query.givenName || core.givenNames.some((name) => textMatches(name, query.givenName!, true)))
  );
}

/** The answer carrying a person, shaped for the interaction that asked. */
function found(responseCode: string, person: SyntheticPerson, interaction: Interaction, query: PatientQuery): SimulatedAnswer {
  if (interaction === 'verifyNHSNumber') {
    // verifyNHSNumberResponse has no local identifier (COMT_MT000013GB01, SPEC §5.3).
    return responseCode === 'SMSP-0000'
      ? { responseCode, verified: true, nhsNumber: person.nhsNumber }
      : { responseCode, nhsNumber: person.nhsNumber };
  }
  return {
    responseCode,
    nhsNumber: person.nhsNumber,
    ...(DETAILS_INTERACTIONS.has(interaction) ? { patient: toPdsPatient(person) } : {}),
    ...(query.localId ? { localId: query.localId } : {}),
  };
}

/** The person as PDS returns them: S-flagged people without location, contact or GP (SPEC §7, [GPC] #55). */
export function toPdsPatient(person: SyntheticPerson): PdsPatient {
  const patient: PdsPatient = {
    nhsNumber: person.nhsNumber,
    ...(person.title === undefined ? {} : { title: person.title }),
    givenNames: [...person.givenNames],
    familyName: person.familyName,
    sex: person.sex,
    dateOfBirth: person.dateOfBirth,
    ...(person.dateOfDeath === undefined ? {} : { dateOfDeath: person.dateOfDeath }),
    addresses: [],
    telecoms: [],
  };
  if (person.sensitive) return { ...patient, sensitive: true };
  return {
    ...patient,
    addresses: person.addresses.map((a) => ({ ...a, lines: [...a.lines] })),
    telecoms: person.telecoms.map((t) => ({ ...t })),
    ...(person.gpPractice === undefined ? {} : { gpPractice: { ...person.gpPractice } }),
  };
}

/** Dates agree at the lower precision of the two: 1950 agrees with 19500312 (SPEC §4.4). */
export function datesAgree(held: PdsDate, asked: PdsDate): boolean {
  const precision = Math.min(held.length, asked.length, 8);
  return precision >= 4 && held.slice(0, precision) === asked.slice(0, precision);
}

function normaliseName(value: string): string {
  return value.normalize('NFC').trim().toUpperCase();
}

function normalisePostcode(value: string): string {
  // PDS tolerates spacing: `LS14HY`, `LS1 4HY` and `LS1  4HY` are one postcode.
  return value.replace(/\s+/g, '').toUpperCase();
}

/**
 * Case-insensitive equality, or a prefix match when `allowWildcard` and the pattern is at least two
 * characters followed by one trailing `*` (SPEC §4.4). Any other `*` is taken literally, so matches nothing.
 */
function matchesPattern(held: string, pattern: string, allowWildcard: boolean): boolean {
  if (allowWildcard && pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    if (prefix.length >= MIN_WILDCARD_PREFIX && !prefix.includes('*')) return held.startsWith(prefix);
  }
  return held === pattern;
}

export function textMatches(held: string, asked: string, allowWildcard: boolean): boolean {
  return matchesPattern(normaliseName(held), normaliseName(asked), allowWildcard);
}

export function postcodeMatches(held: string, asked: string): boolean {
  return matchesPattern(normalisePostcode(held), normalisePostcode(asked), true);
}
