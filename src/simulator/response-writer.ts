import type { PdsAddress, PdsPatient } from '../domain/demographics.js';
import { INTERACTION_SPECS, NS, OID, SOAP_FAULT_ACTION, type Interaction } from '../smsp/interactions.js';

/**
 * The simulator's responses, written the way NHS Digital's SMSP writes them (SPEC §2.3, §3, §5, §6.3;
 * the captured OpenTest response and the TKW templates in shared/smsp/samples/). Pure: ids are passed
 * in, so a response can be rebuilt exactly in tests. Written apart from the client's parser on purpose.
 *
 * Written as strings, every value through one escaping function, rather than through a DOM: building
 * an xmlbuilder2 document per answer was a fifth of the simulator's CPU per request, and the
 * simulator shares the machine with the client it serves. The tests hold these bytes equal to what
 * xmlbuilder2 writes for the same content (test/simulator/xmlbuilder2-response-writer.ts).
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
export const CODES_WITH_SUBJECT: ReadonlySet<string> = new Set(['SMSP-0000', 'SMSP-0003', 'DEMOG-0017']);

/** SPEC §6.3 / TKW fault templates. */
export const FAULT_STRINGS: Readonly<Record<FaultContent['faultCode'], string>> = {
  Client: 'A client related error has occurred, see detail element for further information',
  Server: 'A Server related error has occurred, see detail element for further information',
  VersionMismatch: 'Improper SOAP Version referenced',
};

/** AD.NHS.AddressType2 carries five positional lines. */
export const ADDRESS_LINES = 5;

const TEXT_SPECIALS = /[&<>]/;
const ATTRIBUTE_SPECIALS = /[&<>"]/;
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** A complete SOAP response (HTTP 200) for one interaction and response code. */
export function writeResponse(content: ResponseContent, ids: ResponseIds): string {
  const spec = INTERACTION_SPECS[content.interaction];
  const payloadRef = `uuid_${ids.payloadId}`;
  const manifestItem = element(
    'itk:manifestitem',
    attribute('id', payloadRef) +
      attribute('mimetype', 'text/xml') +
      attribute('profileid', spec.responseProfileId) +
      attribute('base64', 'false') +
      attribute('compressed', 'false') +
      attribute('encrypted', 'false'),
  );
  const header = element(
    'itk:header',
    attribute('service', spec.responseService) + attribute('trackingid', ids.trackingId),
    element('itk:manifest', attribute('count', '1'), manifestItem),
  );
  let hl7 =
    element('id', attribute('root', ids.payloadId)) +
    element('code', attribute('code', spec.responseRoot) + attribute('codeSystem', OID.messageCodeSystem)) +
    element('value', attribute('code', content.responseCode) + attribute('codeSystem', OID.responseCodeSystem));
  if (CODES_WITH_SUBJECT.has(content.responseCode) && content.nhsNumber !== undefined) hl7 += subject(content, content.nhsNumber);
  // The HL7 payload declares its own default namespace: its unprefixed elements are HL7 V3.
  const payload = element(spec.responseRoot, attribute('xmlns', NS.hl7) + attribute('classCode', 'OBS') + attribute('moodCode', 'EVN'), hl7);
  const payloads = element('itk:payloads', attribute('count', '1'), element('itk:payload', attribute('id', payloadRef), payload));
  return soapEnvelope(ids.messageId, spec.responseService, element('itk:DistributionEnvelope', '', header + payloads));
}

/** An ITK SOAP fault (HTTP 500) shaped like the TKW fault templates (SPEC §6.3). */
export function writeFault(fault: FaultContent, messageId: string): string {
  let info =
    textElement('itk:ErrorID', fault.errorId) +
    element('itk:ErrorCode', attribute('codeSystem', OID.itkErrorCodeSystem), escape(fault.itkCode, false)) +
    textElement('itk:ErrorText', fault.errorText);
  if (fault.diagnosticText !== undefined) info += textElement('itk:ErrorDiagnosticText', fault.diagnosticText);
  const soapFault =
    textElement('faultcode', `soap:${fault.faultCode}`) +
    textElement('faultstring', FAULT_STRINGS[fault.faultCode]) +
    element('detail', '', element('itk:ToolkitErrorInfo', '', info));
  return soapEnvelope(messageId, SOAP_FAULT_ACTION, element('soap:Fault', '', soapFault));
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const ENVELOPE_NAMESPACES = attribute('xmlns:soap', NS.soap) + attribute('xmlns:wsa', NS.wsa) + attribute('xmlns:itk', NS.itk);

/** soap:Envelope with the NHS response header (MessageID, Action only; SPEC §2.3) around `body`. */
function soapEnvelope(messageId: string, action: string, body: string): string {
  const header = element('soap:Header', '', textElement('wsa:MessageID', messageId) + textElement('wsa:Action', action));
  return XML_DECLARATION + element('soap:Envelope', ENVELOPE_NAMESPACES, header + element('soap:Body', '', body));
}

function subject(content: ResponseContent, nhsNumber: string): string {
  if (content.interaction === 'verifyNHSNumber') {
    // For DEMOG-0017 the number supplied is not the valid identifier: the one returned replaces it.
    const verified = content.responseCode === 'DEMOG-0017' ? false : (content.verified ?? true);
    // COMT_MT000013GB01: the number sits inside validIdentifier, one id only (SPEC §5.3).
    const validIdentifier =
      element('code', attribute('code', 'VI') + attribute('codeSystem', OID.validIdentifierCodeSystem)) +
      element('value', attribute('value', String(verified))) +
      subjectPatient(patientIds(nhsNumber));
    return element(
      'component',
      attribute('typeCode', 'COMP'),
      element('validIdentifier', attribute('classCode', 'OBS') + attribute('moodCode', 'EVN'), validIdentifier),
    );
  }
  let patient = patientIds(nhsNumber, content.localIdentifier);
  if (content.interaction !== 'getNHSNumber' && content.patient !== undefined) patient += patientDetails(content.patient);
  return subjectPatient(patient);
}

function subjectPatient(patient: string): string {
  return element('subject', attribute('typeCode', 'SBJ'), element('patient', attribute('classCode', 'PAT'), patient));
}

function patientIds(nhsNumber: string, localIdentifier?: { root: string; extension: string }): string {
  const ids = element('id', attribute('root', OID.nhsNumber) + attribute('extension', nhsNumber));
  if (localIdentifier === undefined) return ids;
  return ids + element('id', attribute('root', localIdentifier.root) + attribute('extension', localIdentifier.extension));
}

/** COMT_MT000016GB01 Patient, children in schema order (SPEC §5.5). */
function patientDetails(person: PdsPatient): string {
  let out = '';
  const givenNames = person.givenNames.slice(0, 2);
  if (person.title !== undefined || givenNames.length > 0 || person.familyName !== undefined) {
    let name = '';
    if (person.title !== undefined) name += textElement('prefix', person.title);
    for (const given of givenNames) name += textElement('given', given);
    if (person.familyName !== undefined) name += textElement('family', person.familyName);
    out += element('name', '', name);
  }
  for (const address of person.addresses.slice(0, 3)) out += addressElement(address);
  for (const telecom of person.telecoms) {
    out += element('telecom', (telecom.use === undefined ? '' : attribute('use', telecom.use)) + attribute('value', telecom.value));
  }
  const { sex, dateOfBirth, dateOfDeath, gpPractice } = person;
  if (sex === undefined && dateOfBirth === undefined && dateOfDeath === undefined && gpPractice === undefined) return out;
  let patientPerson = '';
  if (sex !== undefined) patientPerson += element('administrativeGenderCode', attribute('code', sex) + attribute('codeSystem', OID.sexCodeSystem));
  if (dateOfBirth !== undefined) patientPerson += element('birthTime', attribute('value', dateOfBirth));
  if (dateOfDeath !== undefined) patientPerson += element('deceasedTime', attribute('value', dateOfDeath));
  if (gpPractice !== undefined) {
    let organisation = element('id', attribute('root', OID.gpPractice) + attribute('extension', gpPractice.odsCode));
    if (gpPractice.name !== undefined) organisation += textElement('name', gpPractice.name);
    patientPerson += element(
      'gPPractice',
      attribute('classCode', 'SDLOC'),
      element('locationOrganization', attribute('classCode', 'ORG') + attribute('determinerCode', 'INSTANCE'), organisation),
    );
  }
  return out + element('patientPerson', attribute('classCode', 'PSN') + attribute('determinerCode', 'INSTANCE'), patientPerson);
}

/** AD.NHS.AddressType2: postalCode first, then exactly five streetAddressLine, blanks kept (SPEC §5.5). */
function addressElement(address: PdsAddress): string {
  let content = address.postcode === undefined ? '' : textElement('postalCode', address.postcode);
  for (let i = 0; i < ADDRESS_LINES; i++) {
    const line = address.lines[i] ?? '';
    content += line === '' ? element('streetAddressLine', '') : textElement('streetAddressLine', line);
  }
  return element('addr', address.use === undefined ? '' : attribute('use', address.use), content);
}

// ---- Markup -----------------------------------------------------------------------------------

/** `<name attributes/>`, or `<name attributes>content</name>` when there is content (even ''). */
function element(name: string, attributes: string, content?: string): string {
  return content === undefined ? `<${name}${attributes}/>` : `<${name}${attributes}>${content}</${name}>`;
}

function textElement(name: string, text: string): string {
  return element(name, '', escape(text, false));
}

/** ` name="value"`, the value escaped. */
function attribute(name: string, value: string): string {
  return ` ${name}="${escape(value, true)}"`;
}

/**
 * Every `&` and `<` escaped, and `>` as well (so `]]>` can never appear); `"` too in attribute
 * values, which are always double-quoted. Text from the population (names, addresses) passes
 * through here unaltered otherwise: what the client decodes is exactly what the directory holds.
 */
function escape(value: string, inAttribute: boolean): string {
  if (!(inAttribute ? ATTRIBUTE_SPECIALS : TEXT_SPECIALS).test(value)) return value;
  return value.replace(inAttribute ? /[&<>"]/g : /[&<>]/g, (c) => ESCAPES[c]!);
}
