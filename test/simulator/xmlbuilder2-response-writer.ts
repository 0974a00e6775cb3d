import { create } from 'xmlbuilder2';
import type { PdsAddress, PdsPatient } from '../../src/domain/demographics.js';
import { INTERACTION_SPECS, NS, OID, SOAP_FAULT_ACTION } from '../../src/smsp/interactions.js';
import { literal } from '../../src/smsp/xml-text.js';
import {
  ADDRESS_LINES,
  CODES_WITH_SUBJECT,
  FAULT_STRINGS,
  type FaultContent,
  type ResponseContent,
  type ResponseIds,
} from '../../src/simulator/response-writer.js';

/**
 * The simulator's response writer as it was built on xmlbuilder2, kept as the reference the string
 * writer (src/simulator/response-writer.ts) must match byte for byte. Every variable value goes
 * through literal() here: xmlbuilder2 leaves entity-like `&` runs unescaped (src/smsp/xml-text.ts),
 * and the original passed codes, ids and dates from the population without it, trusting them.
 */


/** xmlbuilder2 does not export its builder interface from the package root. */
type XMLBuilder = ReturnType<typeof create>;

/** A complete SOAP response (HTTP 200) for one interaction and response code. */
export function writeResponseWithXmlbuilder2(content: ResponseContent, ids: ResponseIds): string {
  const spec = INTERACTION_SPECS[content.interaction];
  const payloadRef = literal(`uuid_${ids.payloadId}`);
  const body = soapEnvelope(literal(ids.messageId), spec.responseService);
  const de = body
    .ele(NS.itk, 'itk:DistributionEnvelope')
    .ele(NS.itk, 'itk:header')
    .att('service', spec.responseService)
    .att('trackingid', literal(ids.trackingId))
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
  hl7.ele('id').att('root', literal(ids.payloadId));
  hl7.ele('code').att('code', spec.responseRoot).att('codeSystem', OID.messageCodeSystem);
  hl7.ele('value').att('code', literal(content.responseCode)).att('codeSystem', OID.responseCodeSystem);
  if (CODES_WITH_SUBJECT.has(content.responseCode) && content.nhsNumber !== undefined) writeSubject(hl7, content, content.nhsNumber);
  return hl7.end({ prettyPrint: false });
}

/** An ITK SOAP fault (HTTP 500) shaped like the TKW fault templates (SPEC §6.3). */
export function writeFaultWithXmlbuilder2(fault: FaultContent, messageId: string): string {
  const info = soapEnvelope(literal(messageId), SOAP_FAULT_ACTION)
    .ele(NS.soap, 'soap:Fault')
    .ele('faultcode')
    .txt(`soap:${fault.faultCode}`)
    .up()
    .ele('faultstring')
    .txt(FAULT_STRINGS[fault.faultCode])
    .up()
    .ele('detail')
    .ele(NS.itk, 'itk:ToolkitErrorInfo');
  info.ele(NS.itk, 'itk:ErrorID').txt(literal(fault.errorId));
  info.ele(NS.itk, 'itk:ErrorCode').att('codeSystem', OID.itkErrorCodeSystem).txt(literal(fault.itkCode));
  info.ele(NS.itk, 'itk:ErrorText').txt(literal(fault.errorText));
  if (fault.diagnosticText !== undefined) info.ele(NS.itk, 'itk:ErrorDiagnosticText').txt(literal(fault.diagnosticText));
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
  patient.ele('id').att('root', OID.nhsNumber).att('extension', literal(nhsNumber));
  if (localIdentifier !== undefined) patient.ele('id').att('root', literal(localIdentifier.root)).att('extension', literal(localIdentifier.extension));
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
    if (telecom.use !== undefined) element.att('use', literal(telecom.use));
    element.att('value', literal(telecom.value));
  }
  const { sex, dateOfBirth, dateOfDeath, gpPractice } = person;
  if (sex === undefined && dateOfBirth === undefined && dateOfDeath === undefined && gpPractice === undefined) return;
  const patientPerson = patient.ele('patientPerson').att('classCode', 'PSN').att('determinerCode', 'INSTANCE');
  if (sex !== undefined) patientPerson.ele('administrativeGenderCode').att('code', literal(sex)).att('codeSystem', OID.sexCodeSystem);
  if (dateOfBirth !== undefined) patientPerson.ele('birthTime').att('value', literal(dateOfBirth));
  if (dateOfDeath !== undefined) patientPerson.ele('deceasedTime').att('value', literal(dateOfDeath));
  if (gpPractice !== undefined) {
    const organisation = patientPerson
      .ele('gPPractice')
      .att('classCode', 'SDLOC')
      .ele('locationOrganization')
      .att('classCode', 'ORG')
      .att('determinerCode', 'INSTANCE');
    organisation.ele('id').att('root', OID.gpPractice).att('extension', literal(gpPractice.odsCode));
    if (gpPractice.name !== undefined) organisation.ele('name').txt(literal(gpPractice.name));
  }
}

/** AD.NHS.AddressType2: postalCode first, then exactly five streetAddressLine, blanks kept (SPEC §5.5). */
function writeAddress(addr: XMLBuilder, address: PdsAddress): void {
  if (address.use !== undefined) addr.att('use', literal(address.use));
  if (address.postcode !== undefined) addr.ele('postalCode').txt(literal(address.postcode));
  for (let i = 0; i < ADDRESS_LINES; i++) {
    const line = address.lines[i] ?? '';
    const element = addr.ele('streetAddressLine');
    if (line !== '') element.txt(literal(line));
  }
}
