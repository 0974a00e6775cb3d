/**
 * Which PatientQuery fields each interaction sends and which it requires: the one table both the
 * local checks and the HL7 payload builder read, so a field is never checked by one rule set and
 * sent by another.
 */

import type { PatientQuery } from '../domain/demographics.js';
import type { Interaction } from './interactions.js';

/** The HL7 queryEvent parameters, in the order every QUPA_MT00000nGB01 sequence lists them. */
export const QUERY_PARAMETERS = [
  'Person.DateOfBirth',
  'Person.Gender',
  'Person.LocalIdentifier',
  // Code-point order: "NHSNumber" sorts before "Name" (SPEC §4.2 "in the schema's order").
  'Person.NHSNumber',
  'Person.Name',
  'Person.Postcode',
] as const;

export type QueryParameter = (typeof QUERY_PARAMETERS)[number];

/** The query fields each parameter carries. */
export const PARAMETER_FIELDS: Readonly<Record<QueryParameter, readonly (keyof PatientQuery)[]>> = {
  'Person.DateOfBirth': ['dateOfBirth'],
  'Person.Gender': ['sex'],
  'Person.LocalIdentifier': ['localId'],
  'Person.NHSNumber': ['nhsNumber'],
  'Person.Name': ['givenName', 'familyName'],
  'Person.Postcode': ['postcode'],
};

/** The parameters each request schema allows (SPEC §4.3, QUPA_MT000001–5GB01). */
const INTERACTION_PARAMETERS: Readonly<Record<Interaction, ReadonlySet<QueryParameter>>> = {
  verifyNHSNumber: new Set(['Person.DateOfBirth', 'Person.NHSNumber', 'Person.Name']),
  getNHSNumber: new Set(['Person.DateOfBirth', 'Person.Gender', 'Person.LocalIdentifier', 'Person.Name', 'Person.Postcode']),
  getPatientDetailsByNHSNumber: new Set(['Person.DateOfBirth', 'Person.LocalIdentifier', 'Person.NHSNumber', 'Person.Name']),
  getPatientDetailsBySearch: new Set(['Person.DateOfBirth', 'Person.Gender', 'Person.LocalIdentifier', 'Person.Name', 'Person.Postcode']),
  getPatientDetails: new Set(QUERY_PARAMETERS),
};

/** The parameters `interaction` sends, in schema order. */
export function parametersFor(interaction: Interaction): QueryParameter[] {
  const allowed = INTERACTION_PARAMETERS[interaction];
  return QUERY_PARAMETERS.filter((parameter) => allowed.has(parameter));
}

/** The query fields `interaction` sends (fields it does not send are neither checked nor built). */
export function sentFields(interaction: Interaction): (keyof PatientQuery)[] {
  return parametersFor(interaction).flatMap((parameter) => PARAMETER_FIELDS[parameter]);
}

/** True when a field holds something to send: absent, empty and blank values are all "not given". */
export function hasValue(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/**
 * Whether this call is a demographic search rather than a look-up by NHS number: searches may use
 * partial dates of birth and wildcards (SPEC §4.4, TRCPDS-6/10). getPatientDetails is a search only
 * when no NHS number is given.
 */
export function isSearch(interaction: Interaction, query: PatientQuery): boolean {
  switch (interaction) {
    case 'getNHSNumber':
    case 'getPatientDetailsBySearch':
      return true;
    case 'getPatientDetails':
      return !hasValue(query.nhsNumber);
    case 'verifyNHSNumber':
    case 'getPatientDetailsByNHSNumber':
      return false;
  }
}

/**
 * The fields that must be given. verify / byNHSNumber need NHS number and date of birth;
 * getNHSNumber / bySearch need family name, sex and date of birth (SPEC §4.3 schema and
 * information-model cardinality). getPatientDetails only needs a date of birth by schema; without
 * an NHS number pds-trace also requires family name and sex, as the trace rules of other clients do
 * (SPEC §4.3 "client-side conventions"): a client convention, not a published provider rule.
 */
export function requiredFields(interaction: Interaction, query: PatientQuery): (keyof PatientQuery)[] {
  switch (interaction) {
    case 'verifyNHSNumber':
    case 'getPatientDetailsByNHSNumber':
      return ['nhsNumber', 'dateOfBirth'];
    case 'getNHSNumber':
    case 'getPatientDetailsBySearch':
      return ['dateOfBirth', 'familyName', 'sex'];
    case 'getPatientDetails':
      return hasValue(query.nhsNumber) ? ['dateOfBirth'] : ['dateOfBirth', 'familyName', 'sex'];
  }
}
