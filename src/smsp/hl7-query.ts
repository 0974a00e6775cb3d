/**
 * The HL7 V3 query payload carried inside the ITK DistributionEnvelope (SPEC §4): one root element
 * per interaction, in the default namespace urn:hl7-org:v3, holding the query parameters in schema
 * order. Optional parameters without a value are left out (the schema allows nullFlavor; no sample
 * sends it).
 */

import type { PatientQuery } from '../domain/demographics.js';
import { INTERACTION_SPECS, NS, OID, type Interaction } from './interactions.js';
import { hasValue, PARAMETER_FIELDS, parametersFor, type QueryParameter } from './query-parameters.js';
import { literal, type XMLBuilder } from './xml-text.js';

export interface QueryPayloadOptions {
  /** HL7 id/@root: an upper-case UUID. */
  payloadId: string;
  /** Root OID for Person.LocalIdentifier. */
  localIdentifierRoot: string;
}

function hl7(parent: XMLBuilder, name: string): XMLBuilder {
  return parent.ele(NS.hl7, name);
}

/** Fills a parameter's `value` element; called only when the parameter has something to send. */
type ValueWriter = (value: XMLBuilder, query: PatientQuery, options: QueryPayloadOptions) => void;

// Writers are only called when one of the parameter's fields has a value, hence the `?? ''`s
// that never apply. Query values go through `literal` (see xml-text.ts for why).
const VALUE_WRITERS: Readonly<Record<QueryParameter, ValueWriter>> = {
  'Person.DateOfBirth': (value, { dateOfBirth }) => {
    value.att('value', literal(dateOfBirth));
  },
  'Person.Gender': (value, { sex }) => {
    value.att('code', literal(sex ?? '')).att('codeSystem', OID.sexCodeSystem);
  },
  'Person.LocalIdentifier': (value, { localId }, { localIdentifierRoot }) => {
    value.att('root', literal(localIdentifierRoot)).att('extension', literal(localId ?? ''));
  },
  'Person.NHSNumber': (value, { nhsNumber }) => {
    value.att('root', OID.nhsNumber).att('extension', literal(nhsNumber ?? ''));
  },
  // One given name at most, then family; no prefix, no @use (PersonNameType3 prohibits it) (SPEC §4.2).
  'Person.Name': (value, { givenName, familyName }) => {
    if (hasValue(givenName)) hl7(value, 'given').txt(literal(givenName));
    if (hasValue(familyName)) hl7(value, 'family').txt(literal(familyName));
  },
  'Person.Postcode': (value, { postcode }) => {
    hl7(value, 'postalCode').txt(literal(postcode ?? ''));
  },
};

function hasParameter(name: QueryParameter, query: PatientQuery): boolean {
  return PARAMETER_FIELDS[name].some((field) => hasValue(query[field]));
}

/** Appends the interaction's HL7 query payload to `parent` (the itk:payload element). */
export function appendQueryPayload(
  parent: XMLBuilder,
  interaction: Interaction,
  query: PatientQuery,
  options: QueryPayloadOptions,
): void {
  const spec = INTERACTION_SPECS[interaction];
  const root = hl7(parent, spec.requestRoot).att('classCode', 'CACT').att('moodCode', 'EVN');
  hl7(root, 'id').att('root', literal(options.payloadId));
  // The root and code differ for getPatientDetails; the table holds both (SPEC §4.1).
  hl7(root, 'code').att('code', spec.requestCode).att('codeSystem', OID.messageCodeSystem);
  const queryEvent = hl7(root, 'queryEvent');
  for (const name of parametersFor(interaction)) {
    if (!hasParameter(name, query)) continue;
    const parameter = hl7(queryEvent, name);
    VALUE_WRITERS[name](hl7(parameter, 'value'), query, options);
    // semanticsText is fixed to the parameter's own name by every request schema.
    hl7(parameter, 'semanticsText').txt(name);
  }
}
