/**
 * Checks a query before anything is built or sent, so a row PDS would reject (or that would make
 * ill-formed XML) is answered locally. Only the fields the interaction sends are checked. Messages
 * name the field and the rule, never the value: they reach logs, results and audit files.
 */

import { SEX_CODES, type PatientQuery } from '../domain/demographics.js';
import { isValidNhsNumber } from '../domain/nhs-number.js';
import type { ReasonCode } from '../domain/reasons.js';
import type { Interaction } from './interactions.js';
import { hasValue, isSearch, requiredFields, sentFields } from './query-parameters.js';

export interface LocalCheckFailure {
  field: keyof PatientQuery;
  reason: ReasonCode;
  message: string;
}

type Problem = Omit<LocalCheckFailure, 'field'>;
type FieldRule = (value: string, search: boolean) => Problem | undefined;

/**
 * [inference] SMSP field limits are not public. 35 characters per name part is the PDS FHIR limit
 * (reference/batch-formats.md §6.4); 64 for a local identifier is a generous cap of our own.
 */
const MAX_NAME_LENGTH = 35;
const MAX_LOCAL_ID_LENGTH = 64;
/** SPEC §4.4 ([OIH] validator): at most eight characters including the space. */
const MAX_POSTCODE_LENGTH = 8;
/** SPEC §4.4: `*`, only in searches and only after at least two characters. */
const WILDCARD = '*';
const MIN_WILDCARD_PREFIX = 2;

const FIELD_LABELS: Readonly<Record<keyof PatientQuery, string>> = {
  nhsNumber: 'NHS number',
  familyName: 'family name',
  givenName: 'given name',
  dateOfBirth: 'date of birth',
  sex: 'sex',
  postcode: 'postcode',
  localId: 'local identifier',
};

const MISSING_REASONS: Readonly<Partial<Record<keyof PatientQuery, ReasonCode>>> = {
  nhsNumber: 'missing_nhs_number',
  dateOfBirth: 'missing_date_of_birth',
  familyName: 'missing_family_name',
  sex: 'missing_sex',
};

/**
 * C0 and C1 controls (DEL included), and what XML 1.0 cannot carry at all: lone surrogates and
 * U+FFFE/U+FFFF. With the `u` flag a well-paired surrogate is one code point and does not match.
 */
const FORBIDDEN_CHARACTERS = /[\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDFFF]/u;

function codePointLength(value: string): number {
  return [...value].length;
}

function checkCharacters(value: string): Problem | undefined {
  return FORBIDDEN_CHARACTERS.test(value)
    ? { reason: 'invalid_characters', message: 'must not hold control characters or characters XML cannot carry' }
    : undefined;
}

function checkLength(value: string, max: number): Problem | undefined {
  return codePointLength(value) > max ? { reason: 'field_too_long', message: `must be at most ${max} characters` } : undefined;
}

/** A wildcard is one trailing `*` after at least two characters, and only in a search. */
function checkWildcard(value: string, search: boolean): Problem | undefined {
  const at = value.indexOf(WILDCARD);
  if (at === -1) return undefined;
  if (!search) return { reason: 'wildcard_not_allowed', message: 'may hold a wildcard (*) only in a demographic search' };
  if (at !== value.length - 1) return { reason: 'wildcard_not_allowed', message: 'may hold a wildcard (*) only as its last character' };
  if (codePointLength(value.slice(0, at).trim()) < MIN_WILDCARD_PREFIX) {
    return { reason: 'wildcard_not_allowed', message: `needs at least ${MIN_WILDCARD_PREFIX} characters before a wildcard (*)` };
  }
  return undefined;
}

function firstProblem(...checks: (() => Problem | undefined)[]): Problem | undefined {
  for (const check of checks) {
    const problem = check();
    if (problem) return problem;
  }
  return undefined;
}

const checkName: FieldRule = (value, search) =>
  firstProblem(
    () => checkCharacters(value),
    () => checkLength(value, MAX_NAME_LENGTH),
    () => checkWildcard(value, search),
  );

function checkNhsNumber(value: string): Problem | undefined {
  if (!/^\d{10}$/.test(value)) return { reason: 'nhs_number_format', message: 'must be exactly ten digits' };
  if (!isValidNhsNumber(value)) return { reason: 'nhs_number_check_digit', message: 'fails the Modulus 11 check digit' };
  return undefined;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * HL7 TS truncated to YYYYMMDD, YYYYMM or YYYY, naming a real calendar date. Partial dates are for
 * searches only (SPEC §4.4: TRCPDS-10; [OIH] requires exactly YYYYMMDD for verify-type requests).
 */
function checkDateOfBirth(value: string, search: boolean): Problem | undefined {
  const match = /^(\d{4})(?:(\d{2})(\d{2})?)?$/.exec(value);
  if (!match) return { reason: 'date_of_birth_format', message: 'must be YYYYMMDD (or YYYYMM / YYYY in a search)' };
  const [, yearText, monthText, dayText] = match;
  const year = Number(yearText);
  const month = monthText === undefined ? undefined : Number(monthText);
  const day = dayText === undefined ? undefined : Number(dayText);
  const realDate =
    year >= 1 &&
    (month === undefined || (month >= 1 && month <= 12)) &&
    (day === undefined || (month !== undefined && day >= 1 && day <= daysInMonth(year, month)));
  if (!realDate) return { reason: 'date_of_birth_format', message: 'is not a real calendar date' };
  if (day === undefined && !search) {
    return { reason: 'date_of_birth_partial_not_allowed', message: 'must be a full YYYYMMDD date outside a demographic search' };
  }
  return undefined;
}

function checkSex(value: string): Problem | undefined {
  return (SEX_CODES as readonly string[]).includes(value) ? undefined : { reason: 'sex_code', message: 'must be 0, 1, 2 or 9' };
}

/** Upper-case letters and digits with at most one inner space (SPEC §4.4, [OIH] validator). */
function checkPostcode(value: string, search: boolean): Problem | undefined {
  return firstProblem(
    () => checkLength(value, MAX_POSTCODE_LENGTH),
    () => checkWildcard(value, search),
    () => {
      const stem = value.endsWith(WILDCARD) ? value.slice(0, -1) : value;
      return /^[A-Z0-9]+(?: [A-Z0-9]+)?$/.test(stem)
        ? undefined
        : { reason: 'postcode_format', message: 'must be letters A-Z and digits with at most one space' };
    },
  );
}

const checkLocalId: FieldRule = (value) =>
  firstProblem(
    () => checkCharacters(value),
    () => checkLength(value, MAX_LOCAL_ID_LENGTH),
  );

const FIELD_RULES: Readonly<Record<keyof PatientQuery, FieldRule>> = {
  nhsNumber: checkNhsNumber,
  dateOfBirth: checkDateOfBirth,
  familyName: checkName,
  givenName: checkName,
  sex: checkSex,
  postcode: checkPostcode,
  localId: checkLocalId,
};

/** The order failures are looked for, so the same query always reports the same first failure. */
const CHECK_ORDER: readonly (keyof PatientQuery)[] = ['nhsNumber', 'dateOfBirth', 'familyName', 'givenName', 'sex', 'postcode', 'localId'];

/** The first rule `query` breaks for `interaction`, or undefined when it is safe to build and send. */
export function checkQuery(interaction: Interaction, query: PatientQuery): LocalCheckFailure | undefined {
  const required = new Set(requiredFields(interaction, query));
  const sent = new Set(sentFields(interaction));
  const search = isSearch(interaction, query);
  for (const field of CHECK_ORDER) {
    const value = query[field];
    const label = FIELD_LABELS[field];
    if (!hasValue(value)) {
      const missing = MISSING_REASONS[field];
      if (required.has(field) && missing !== undefined) {
        return { field, reason: missing, message: `${label} is required for ${interaction}` };
      }
      continue;
    }
    if (!sent.has(field)) continue;
    const problem = FIELD_RULES[field](value, search);
    if (problem) return { field, reason: problem.reason, message: `${label} ${problem.message}` };
  }
  return undefined;
}
