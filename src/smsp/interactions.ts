/**
 * The five SMSP PDS interactions and their fixed identifiers (shared/smsp/SPEC.md §1, §4.1, §5.1).
 * One row per interaction: builders, parser, transport and simulator all read this table.
 */

import { INTERACTIONS, type Interaction } from '../domain/interaction.js';

export { INTERACTIONS, type Interaction };

export interface InteractionSpec {
  /** SOAPAction = wsa:Action = DistributionEnvelope header/@service. */
  service: string;
  /** HL7 V3 request payload root element. */
  requestRoot: string;
  /** Fixed `code/@code` of the request payload. Differs from the root for getPatientDetails (SPEC §4.1). */
  requestCode: string;
  requestProfileId: string;
  /** Message schema the request payload must validate against (under shared/smsp/schemas/Schemas/). */
  requestSchema: string;
  responseService: string;
  responseRoot: string;
  responseProfileId: string;
  responseSchema: string;
}

const SERVICE_PREFIX = 'urn:nhs-itk:services:201005:';
const PROFILE_PREFIX = 'urn:nhs-en:profile:';

function spec(
  name: Interaction,
  requestRoot: string,
  requestSchema: string,
  responseRoot: string,
  responseSchema: string,
): InteractionSpec {
  const requestCode = `${name}Request-v1-0`;
  return {
    service: `${SERVICE_PREFIX}${name}-v1-0`,
    requestRoot,
    requestCode,
    requestProfileId: `${PROFILE_PREFIX}${requestCode}`,
    requestSchema,
    responseService: `${SERVICE_PREFIX}${name}-v1-0Response`,
    responseRoot,
    responseProfileId: `${PROFILE_PREFIX}${responseRoot}`,
    responseSchema,
  };
}

export const INTERACTION_SPECS: Readonly<Record<Interaction, InteractionSpec>> = {
  verifyNHSNumber: spec(
    'verifyNHSNumber',
    'verifyNHSNumberRequest-v1-0',
    'QUPA_MT000001GB01.xsd',
    'verifyNHSNumberResponse-v1-0',
    'COMT_MT000013GB01.xsd',
  ),
  getNHSNumber: spec(
    'getNHSNumber',
    'getNHSNumberRequest-v1-0',
    'QUPA_MT000002GB01.xsd',
    'getNHSNumberResponse-v1-0',
    'COMT_MT000014GB01.xsd',
  ),
  getPatientDetailsByNHSNumber: spec(
    'getPatientDetailsByNHSNumber',
    'getPatientDetailsByNHSNumberRequest-v1-0',
    'QUPA_MT000003GB01.xsd',
    'getPatientDetailsResponse-v1-0',
    'COMT_MT000016GB01.xsd',
  ),
  getPatientDetailsBySearch: spec(
    'getPatientDetailsBySearch',
    'getPatientDetailsBySearchRequest-v1-0',
    'QUPA_MT000004GB01.xsd',
    'getPatientDetailsResponse-v1-0',
    'COMT_MT000016GB01.xsd',
  ),
  // The getPatientDetails payload root has no "Request" in its name while its code does
  // (QUPA_MT000005GB01 fixed values; SPEC §4.1 "root/code quirk").
  getPatientDetails: spec(
    'getPatientDetails',
    'getPatientDetails-v1-0',
    'QUPA_MT000005GB01.xsd',
    'getPatientDetailsResponse-v1-0',
    'COMT_MT000016GB01.xsd',
  ),
};

/** Finds the interaction named by a SOAPAction / wsa:Action / DE service value (quoted or not). */
export function interactionForService(service: string): Interaction | undefined {
  const unquoted = service.trim().replace(/^"(.*)"$/, '$1');
  return INTERACTIONS.find((name) => INTERACTION_SPECS[name].service === unquoted);
}

/** Interactions that look a patient up by NHS number (a success means the number was verified). */
export const NHS_NUMBER_INTERACTIONS: ReadonlySet<Interaction> = new Set([
  'verifyNHSNumber',
  'getPatientDetailsByNHSNumber',
]);

/** Interactions that return full demographics rather than just a number. */
export const DETAILS_INTERACTIONS: ReadonlySet<Interaction> = new Set([
  'getPatientDetailsByNHSNumber',
  'getPatientDetailsBySearch',
  'getPatientDetails',
]);

/** HL7 / ITK constants shared by the client and the simulator. */
export const OID = {
  nhsNumber: '2.16.840.1.113883.2.1.4.1',
  localIdentifier: '2.16.840.1.113883.2.1.3.2.4.18.24',
  messageCodeSystem: '2.16.840.1.113883.2.1.3.2.4.17.284',
  responseCodeSystem: '2.16.840.1.113883.2.1.3.2.4.17.285',
  sexCodeSystem: '2.16.840.1.113883.2.1.3.2.4.16.25',
  validIdentifierCodeSystem: '2.16.840.1.113883.2.1.3.2.4.17.287',
  gpPractice: '2.16.840.1.113883.2.1.3.2.4.19.2',
  itkErrorCodeSystem: '2.16.840.1.113883.2.1.3.2.4.17.268',
  /** NHS Digital SMSP audit identity type: the ASID of the calling system (SPEC §3.1). */
  asidIdentity: '1.2.826.0.1285.0.2.0.107',
  /** ITK default audit identity type, used with `urn:nhs-uk:identity:ods:...` URIs. */
  itkIdentity: '2.16.840.1.113883.2.1.3.2.4.18.27',
} as const;

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  itk: 'urn:nhs-itk:ns:201005',
  hl7: 'urn:hl7-org:v3',
} as const;

export const SOAP_FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/soap/fault';
