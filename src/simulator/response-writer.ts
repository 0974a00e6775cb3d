// Person data goes through literal(): xmlbuilder2 leaves entity-like '&' runs unescaped (src/smsp/xml-text.ts).
import { literal } from '../smsp/xml-text.js';
import { create } from 'xmlbuilder2';
import type { PdsAddress, PdsPatient } from '../domain/demographics.js';
import { INTERACTION_SPECS, NS, OID, SOAP_FAULT_ACTION, type Interaction } from '../smsp/interactions.js';

/**
 * The simulator's responses, written the way NHS Digital's SMSP writes them (SPEC §2.3, §3, §5, §6.3;
 * the captured OpenTest response and the TKW templates in shared/smsp/samples/). Pure: ids are passed
 * in, so a response can be rebuilt exactly in tests. Written apart from the client's parser on purpose.
 */

export interface ResponseIds {
  /** wsa:MessageID of the response: a new upper-case UUID. */
  messageId: string;
  /** DE header/@trackingid: new, not an echo of the request's (SPEC §3.1). */
  trackingId: string;
  /** HL7 id/@root; the ITK payload id is `uuid_` + this, as in NHS responses (SPEC §3.2). */
  payloadId: string;
}

export interface ResponseContent {
  interaction: Interaction;
  responseCode: string;
  /** The NHS number for subject/patient/id (the replacement number for DEMOG-0017). */
  nhsNumber?: string;
  /** verifyNHSNumber: validIdentifier/value. */
  verified?: boolean;
  /** getPatientDetails*: the person, already redacted for sensitive records. */
  patient?: PdsPatient;
  /** The request's Person.LocalIdentifier, echoed unchanged beside the NHS number (SPEC §5.4, §11 q.10). */
  localIdentifier?: { root: string; extension: string };
}

export interface FaultContent {
  faultCode: 'Client' | 'Server' | 'VersionMismatch';
  /** ITK error code (code system ...17.268): 1000, 2100, 2200, 3000. */
  itkCode: string;
  errorText: string;
  /** PII-free detail: the rule ids and what they found. */
  diagnosticText?: string;
  /** ToolkitErrorInfo/ErrorID: a UUID. */
  errorId: string;
}

/**
 * Codes whose answer carries the person. Every other code carries only id, code and value, as in
 * the TKW error templates (SPEC §5.2) — except DEMOG-0017: [PDSCR] §3.2 says the superseding number
 * "is being returned" though the TKW templates show no subject (SPEC §11 open question 5); we read
 * that as the replacement number (and, for details interactions, the replacement's details) in
 * subject, which is where every other response puts an NHS number.
 */
const CODES_WITH_SUBJECT: ReadonlySet<string> = new Set(['SMSP-0000', 'SMSP-0003', 'DEMOG-0017']);

/** SPEC §6.3 / TKW fault templates. */
const FAULT_STRINGS: Readonly<Record<FaultContent['faultCode'], string>> = {
  Client: 'A client related error has occurred, see detail element for further information',
  Server: 'A Server related error has occurred, see detail element for further information',
  VersionMismatch: 'Improper SOAP Version referenced',
};

const ADDRESS_LINES = 5;

/** xmlbuilder2 does not export its builder interface from the package root. */
type XMLBuilder = ReturnType<typeof create>;

/** A complete SOAP response (HTTP 200) for one interaction and response code. */
export function writeResponse(content: ResponseContent, ids: ResponseIds): string {
  const spec = INTERACTION_SPECS[content.interaction];
  const payloadRef = `uuid_${ids.payloadId}`;
  const body = soapEnvelope(ids.messageId, spec.responseService);
  const de = body
    .ele(NS.itk, 'itk:DistributionEnvelope')
    .ele(NS.itk, 'itk:header')
    .att('service', spec.responseService)
    .att('trackingid', ids.trackingId)
    .ele(NS.itk, 'itk:manifest')
    .att('count', '1')
    .ele(NS.itk, 'itk:manifestitem')
    .att('id', payloadRef)
    .att('mimetype', 'text/xml')
    .att('profileid', spec.responseProfileId)
    .att('base64', 'false')
    .att('compressed', 'false')
    .att('encrypted', 'false')
    .up()
    .up()
    .up();
  const hl7 = de
    .ele(NS.itk, 'itk:payloads')
    .att('count', '1')
    .ele(NS.itk, 'itk:payload')
    .att('id', payloadRef)
    .ele(NS.hl7, spec.responseRoot)
    .att('classCode', 'OBS')
    .att('moodCode', 'EVN');
  hl7.ele('id').att('root', ids.payloadId);
  hl7.ele('code').att('code', spec.responseRoot).att('codeSystem', OID.messageCodeSystem);
  hl7.ele('value').att('code', content.responseCode).att('codeSystem', OID.responseCodeSystem);
  if (CODES_WITH_SUBJECT.has(content.responseCode) && content.nhsNumber !== undefined) writeSubject(hl7, content, content.nhsNumber);
  return hl7.end({ prettyPrint: false });
}

/** An ITK SOAP fault (HTTP 500) shaped like the TKW fault templates (SPEC §6.3). */
export function writeFault(fault: FaultContent, messageId: string): string {
  const info = soapEnvelope(messageId, SOAP_FAULT_ACTION)
    .ele(NS.soap, 'soap:Fault')
    .ele('faultcode')
    .txt(`soap:${fault.faultCode}`)
    .up()
    .ele('faultstring')
    .txt(FAULT_STRINGS[fault.faultCode])
    .up()
    .ele('detail')
    .ele(NS.itk, 'itk:ToolkitErrorInfo');
  info.ele(NS.itk, 'itk:ErrorID').txt(fault.errorId);
  info.ele(NS.itk, 'itk:ErrorCode').att('codeSystem', OID.itkErrorCodeSystem).txt(fault.itkCode);
  info.ele(NS.itk, 'itk:ErrorText').txt(fault.errorText);
  if (fault.diagnosticText !== undefined) info.ele(NS.itk, 'itk:ErrorDiagnosticText').txt(fault.diagnosticText);
  return info.end({ prettyPrint: false });
}

/** soap:Envelope with the NHS response header (MessageID, Action only; SPEC §2.3); returns the Body. */
function soapEnvelope(messageId: string, action: string): XMLBuilder {
  const envelope = create({ version: '1.0', encoding: 'UTF-8' })
    .ele(NS.soap, 'soap:Envelope')
    .att('http://www.w3.org/2000/xmlns/', 'xmlns:wsa', NS.wsa)
    .att('http://www.w3.org/2000/xmlns/', 'xmlns:itk', NS.itk);
  const header = envelope.ele(NS.soap, 'soap:Header');
  header.ele(NS.wsa, 'wsa:MessageID').txt(messageId);
  header.ele(NS.wsa, 'wsa:Action').txt(action);
  return envelope.ele(NS.soap, 'soap:Body');
}

function writeSubject(hl7: XMLBuilder, content: ResponseContent, nhsNumber: string): void {
  if (content.interaction === 'verifyNHSNumber') {
    // COMT_MT000013GB01: the number sits inside validIdentifier, one id only (SPEC §5.3).
    const validIdentifier = hl7.ele('component').att('typeCode', 'COMP').ele('validIdentifier').att('classCode', 'OBS').att('moodCode', 'EVN');
    validIdentifier.ele('code').att('code', 'VI').att('codeSystem', OID.validIdentifierCodeSystem);
    // For DEMOG-0017 the number supplied is not the valid identifier: the one returned replaces it.
    const verified = content.responseCode === 'DEMOG-0017' ? false : (content.verified ?? true);
    validIdentifier.ele('value').att('value', String(verified));
    patientIds(validIdentifier.ele('subject').att('typeCode', 'SBJ').ele('patient').att('classCode', 'PAT'), nhsNumber);
    return;
  }
  const patient = hl7.ele('subject').att('typeCode', 'SBJ').ele('patient').att('classCode', 'PAT');
  patientIds(patient, nhsNumber, content.localIdentifier);
  if (content.interaction !== 'getNHSNumber' && content.patient !== undefined) writePatientDetails(patient, content.patient);
}

function patientIds(patient: XMLBuilder, nhsNumber: string, localIdentifier?: { root: string; extension: string }): void {
  patient.ele('id').att('root', OID.nhsNumber).att('extension', nhsNumber);
  if (localIdentifier !== undefined) patient.ele('id').att('root', localIdentifier.root).att('extension', literal(localIdentifier.extension));
}

/** COMT_MT000016GB01 Patient, children in schema order (SPEC §5.5). */
function writePatientDetails(patient: XMLBuilder, person: PdsPatient): void {
  const givenNames = person.givenNames.slice(0, 2);
  if (person.title !== undefined || givenNames.length > 0 || person.familyName !== undefined) {
    const name = patient.ele('name');
    if (person.title !== undefined) name.ele('prefix').txt(literal(person.title));
    for (const given of givenNames) name.ele('given').txt(literal(given));
    if (person.familyName !== undefined) name.ele('family').txt(literal(person.familyName));
  }
  for (const address of person.addresses.slice(0, 3)) writeAddress(patient.ele('addr'), address);
  for (const telecom of person.telecoms) {
    const element = patient.ele('telecom');
    if (telecom.use !== undefined) element.att('use', telecom.use);
    element.att('value', literal(telecom.value));
  }
  const { sex, dateOfBirth, dateOfDeath, gpPractice } = person;
  if (sex === undefined && dateOfBirth === undefined && dateOfDeath === undefined && gpPractice === undefined) return;
  const patientPerson = patient.ele('patientPerson').att('classCode', 'PSN').att('determinerCode', 'INSTANCE');
  if (sex !== undefined) patientPerson.ele('administrativeGenderCode').att('code', sex).att('codeSystem', OID.sexCodeSystem);
  if (dateOfBirth !== undefined) patientPerson.ele('birthTime').att('value', dateOfBirth);
  if (dateOfDeath !== undefined) patientPerson.ele('deceasedTime').att('value', dateOfDeath);
  if (gpPractice !== undefined) {
    const organisation = patientPerson
      .ele('gPPractice')
      .att('classCode', 'SDLOC')
      .ele('locationOrganization')
      .att('classCode', 'ORG')
      .att('determinerCode', 'INSTANCE');
    organisation.ele('id').att('root', OID.gpPractice).att('extension', gpPractice.odsCode);
    if (gpPractice.name !== undefined) organisation.ele('name').txt(literal(gpPractice.name));
  }
}

/** AD.NHS.AddressType2: postalCode first, then exactly five streetAddressLine, blanks kept (SPEC §5.5). */
function writeAddress(addr: XMLBuilder, address: PdsAddress): void {
  if (address.use !== undefined) addr.att('use', address.use);
  if (address.postcode !== undefined) addr.ele('postalCode').txt(literal(address.postcode));
  for (let i = 0; i < ADDRESS_LINES; i++) {
    const line = address.lines[i] ?? '';
    const element = addr.ele('streetAddressLine');
    if (line !== '') element.txt(literal(line));
  }
}
