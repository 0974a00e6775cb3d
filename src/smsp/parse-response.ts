/**
 * Reads an SMSP response body into a `ParsedResponse`: a SOAP fault, or the HL7 V3 response payload
 * with whatever it carries (shared/smsp/SPEC.md §5, §6.3). Pure: no I/O, no clock. It reports what
 * the provider said; deciding what that means for a trace is `to-outcome.ts`'s job.
 */

import { EntityDecoder } from '@nodable/entities';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  SEX_CODES,
  type GpPractice,
  type PdsAddress,
  type PdsPatient,
  type PdsTelecom,
  type SexCode,
} from '../domain/demographics.js';
import { SmspResponseFormatError } from './errors.js';
import { INTERACTION_SPECS, OID } from './interactions.js';
import type { ParsedFault, ParsedPayloadResponse, ParsedResponse } from './types.js';

type XmlValue = string | XmlNode | XmlValue[];
interface XmlNode {
  [key: string]: XmlValue;
}

const ATTR = '@_';
const TEXT = '#text';

/** Elements whose schema allows more than one occurrence: always arrays, however many came. */
const REPEATABLE = new Set([
  'payload',
  'manifestitem',
  'address',
  'id',
  'given',
  'addr',
  'streetAddressLine',
  'telecom',
]);

const parser = new XMLParser({
  // Prefixes vary between providers (soap / SOAP-ENV, itk / toolkit; SPEC §10): match local names.
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  // NHS numbers, local ids, dates and phone numbers keep their leading zeros as strings.
  parseTagValue: false,
  parseAttributeValue: false,
  // XML's five named entities and its numeric character references (&#233;), and no more: &nbsp;
  // is HTML's. The parser's own `htmlEntities` option decoded numeric references only together
  // with every HTML entity, looked for in every text: a quarter of the parse.
  entityDecoder: new EntityDecoder({ limit: { maxTotalExpansions: 10_000, maxExpandedLength: 100_000 } }),
  // Callbacks get the parser's path object rather than a string built for every element: nothing
  // here reads paths, and building them was a tenth of the parse.
  jPath: false,
  // DOCTYPEs are refused before parsing, so no custom entity can be declared; these bounds (and the
  // decoder's above) are defence in depth against entity expansion should that check be loosened.
  processEntities: {
    enabled: true,
    maxEntitySize: 1_000,
    maxEntityCount: 10,
    maxExpansionDepth: 2,
  },
  isArray: (tagName, _path, _isLeaf, isAttribute) => !isAttribute && REPEATABLE.has(tagName),
});

/** The payload root shared by the three getPatientDetails* interactions (SPEC §5.1). */
const DETAILS_RESPONSE_ROOT = INTERACTION_SPECS.getPatientDetails.responseRoot;

/**
 * Parses a response body. Throws `SmspResponseFormatError` for a DOCTYPE, for text that is not
 * well-formed XML, and for XML that is neither a SOAP fault nor an SMSP response payload.
 */
export function parseResponse(body: string): ParsedResponse {
  const root = parseDocument(body);
  // A fault wins whatever else the body holds and whatever the HTTP status was (SPEC §6.3).
  const fault = soapFault(root);
  if (fault !== undefined) return readFault(fault, soapHeader(root));
  return readPayloadResponse(root);
}

function soapHeader(root: NamedElement): XmlValue | undefined {
  return root.name === 'Envelope' ? child(root.node, 'Header') : undefined;
}

/** The answer's own wsa:MessageID and its wsa:RelatesTo values: NHS Digital sends only the first (SPEC §2.3). */
function headerIds(header: XmlValue | undefined): { messageId?: string; relatesTo?: string[] } {
  return {
    messageId: nonEmpty(text(child(header, 'MessageID'))),
    relatesTo: nonEmptyList(children(header, 'RelatesTo').map((relatesTo) => nonEmpty(text(relatesTo)))),
  };
}

interface NamedElement {
  name: string;
  node: XmlValue;
}

function parseDocument(body: string): NamedElement {
  // A DOCTYPE is the only way to declare entities (XXE, billion laughs); SMSP never sends one.
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) {
    throw new SmspResponseFormatError('response declares a DOCTYPE; refused before parsing');
  }
  // A byte-order mark may survive decoding; it is not markup.
  const xml = body.replace(/^\uFEFF/, '');
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    // Code and position only: the validator's message can quote document text.
    const { code, line, col } = validation.err;
    throw new SmspResponseFormatError(`response is not well-formed XML (${code} at ${line}:${col})`);
  }
  let document: XmlNode;
  try {
    document = parser.parse(xml) as XmlNode;
  } catch (cause) {
    throw new SmspResponseFormatError('response XML could not be parsed', { cause });
  }
  const rootName = Object.keys(document).find((key) => !key.startsWith('?') && key !== TEXT);
  if (rootName === undefined) throw new SmspResponseFormatError('response has no root element');
  return { name: rootName, node: first(document[rootName]) ?? '' };
}

/** Envelope/Body/Fault, or a bare Fault element (the TKW fault templates are bodies only, SPEC §8). */
function soapFault(root: NamedElement): XmlValue | undefined {
  if (root.name === 'Fault') return root.node;
  if (root.name === 'Envelope') return path(root.node, 'Body', 'Fault');
  return undefined;
}

function readFault(fault: XmlValue, header: XmlValue | undefined): ParsedFault {
  const info = path(fault, 'detail', 'ToolkitErrorInfo');
  return withoutUndefined<ParsedFault>({
    kind: 'fault',
    ...headerIds(header),
    // faultcode is a QName (soap:Client, SOAP-ENV:Server): the prefix is the provider's choice.
    faultCode: (text(child(fault, 'faultcode')) ?? '').replace(/^[^:]*:/, ''),
    faultString: text(child(fault, 'faultstring')) ?? '',
    itkErrorCode: nonEmpty(text(child(info, 'ErrorCode'))),
    itkErrorText: nonEmpty(text(child(info, 'ErrorText'))),
    itkDiagnosticText: nonEmpty(text(child(info, 'ErrorDiagnosticText'))),
    errorId: nonEmpty(text(child(info, 'ErrorID'))),
  });
}

function readPayloadResponse(root: NamedElement): ParsedPayloadResponse {
  const header = soapHeader(root);
  const distributionEnvelope =
    root.name === 'Envelope'
      ? findDescendant(child(root.node, 'Body'), 'DistributionEnvelope')
      : root.name === 'DistributionEnvelope'
        ? root.node
        : undefined;
  if (root.name === 'Envelope' && distributionEnvelope === undefined) {
    throw new SmspResponseFormatError('SOAP body holds neither a fault nor a DistributionEnvelope');
  }
  // Without an envelope the document itself is the HL7 payload (hand-written fixtures, SPEC §8).
  const payload = distributionEnvelope === undefined ? root : hl7Payload(distributionEnvelope);

  const responseCode = nonEmpty(attr(child(payload.node, 'value'), 'code'));
  if (responseCode === undefined) {
    throw new SmspResponseFormatError('response payload has no value/@code response code');
  }
  const deHeader = child(distributionEnvelope, 'header');
  const patient = subjectPatient(payload.node);
  const ids = patientIds(payload.node);
  return withoutUndefined<ParsedPayloadResponse>({
    kind: 'response',
    responseCode,
    payloadRoot: payload.name,
    service: nonEmpty(attr(deHeader, 'service')) ?? nonEmpty(text(child(header, 'Action'))),
    ...headerIds(header),
    trackingId: nonEmpty(attr(deHeader, 'trackingid')),
    acknowledgedIds: nonEmptyList(
      children(payload.node, 'acknowledgement').flatMap((ack) => children(child(ack, 'messageRef'), 'id').map((id) => nonEmpty(attr(id, 'root')))),
    ),
    verified: validIdentifier(payload.node),
    nhsNumber: ids.nhsNumbers[0],
    otherNhsNumbers: nonEmptyList(ids.nhsNumbers.slice(1)),
    localId: ids.localIds[0],
    otherLocalIds: nonEmptyList(ids.localIds.slice(1)),
    patient:
      payload.name === DETAILS_RESPONSE_ROOT && patient !== undefined && ids.nhsNumbers[0] !== undefined
        ? readPatient(patient, { nhsNumber: ids.nhsNumbers[0], localId: ids.localIds[0] })
        : undefined,
  });
}

/** The HL7 element inside the first itk:payload (the DE carries it inline, SPEC §3.2). */
function hl7Payload(distributionEnvelope: XmlValue): NamedElement {
  const payload = path(distributionEnvelope, 'payloads', 'payload');
  const name = elementNames(payload)[0];
  if (payload === undefined || name === undefined) {
    throw new SmspResponseFormatError('DistributionEnvelope carries no inline HL7 payload');
  }
  return { name, node: child(payload, name) ?? '' };
}

/** subject/patient: directly under the payload, or under validIdentifier for verify (SPEC §5.3–5.5). */
function subjectPatient(payload: XmlValue): XmlValue | undefined {
  return path(payload, 'subject', 'patient') ?? path(payload, 'component', 'validIdentifier', 'subject', 'patient');
}

/**
 * Every distinct id under every patient the payload holds (subject/patient, and
 * component/validIdentifier/subject/patient for verify), told apart by @root, never by position
 * (SPEC §5.4). All of them, not the first: an answer naming two people must not be read as one.
 */
function patientIds(payload: XmlValue): { nhsNumbers: string[]; localIds: string[] } {
  const nhsNumbers = new Set<string>();
  const localIds = new Set<string>();
  const patients = [
    ...children(payload, 'subject'),
    ...children(payload, 'component').flatMap((component) => children(component, 'validIdentifier').flatMap((vi) => children(vi, 'subject'))),
  ].flatMap((subject) => children(subject, 'patient'));
  for (const patient of patients) {
    for (const id of children(patient, 'id')) {
      const extension = nonEmpty(attr(id, 'extension'));
      if (extension === undefined) continue;
      (attr(id, 'root') === OID.nhsNumber ? nhsNumbers : localIds).add(extension);
    }
  }
  return { nhsNumbers: [...nhsNumbers], localIds: [...localIds] };
}

function validIdentifier(payload: XmlValue): boolean | undefined {
  const value = attr(path(payload, 'component', 'validIdentifier', 'value'), 'value');
  if (value === undefined) return undefined;
  // xs:boolean lexical space (HL7 BL in the XML ITS).
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SmspResponseFormatError('validIdentifier/value/@value is not a boolean');
}

/** SPEC §5.5. An empty element is a value PDS holds as blank (''); a missing one was not returned. */
function readPatient(patient: XmlValue, ids: { nhsNumber: string; localId: string | undefined }): PdsPatient {
  const name = child(patient, 'name');
  const person = child(patient, 'patientPerson');
  const addresses = children(patient, 'addr').map(readAddress);
  const telecoms = children(patient, 'telecom').map(readTelecom);
  const gpPractice = readGpPractice(child(person, 'gPPractice'));
  return withoutUndefined<PdsPatient>({
    nhsNumber: ids.nhsNumber,
    localId: ids.localId,
    title: text(child(name, 'prefix')),
    givenNames: children(name, 'given').map((given) => text(given) ?? ''),
    familyName: text(child(name, 'family')),
    sex: sexCode(attr(child(person, 'administrativeGenderCode'), 'code')),
    dateOfBirth: nonEmpty(attr(child(person, 'birthTime'), 'value')),
    dateOfDeath: nonEmpty(attr(child(person, 'deceasedTime'), 'value')),
    addresses,
    telecoms,
    gpPractice,
    // [inference] SMSP carries no sensitivity flag. PDS redacts address, telecoms and GP practice
    // for S-flagged patients (SPEC §7, [GPC] #55), so a record with none of the three is taken as
    // sensitive. A patient who genuinely has none of them is reported the same way.
    sensitive: addresses.length === 0 && telecoms.length === 0 && gpPractice === undefined,
  });
}

function readAddress(addr: XmlValue): PdsAddress {
  return withoutUndefined<PdsAddress>({
    use: attr(addr, 'use'),
    // Every line in order, blanks kept: PDS sends five positional lines (AD.NHS.AddressType2).
    lines: children(addr, 'streetAddressLine').map((line) => text(line) ?? ''),
    postcode: text(child(addr, 'postalCode')),
  });
}

function readTelecom(telecom: XmlValue): PdsTelecom {
  return withoutUndefined<PdsTelecom>({ use: attr(telecom, 'use'), value: attr(telecom, 'value') ?? '' });
}

function readGpPractice(gpPractice: XmlValue | undefined): GpPractice | undefined {
  if (gpPractice === undefined) return undefined;
  const organisation = child(gpPractice, 'locationOrganization');
  // The id root differs from the usual ODS OID (SPEC §11 q.11): only the extension is used.
  return withoutUndefined<GpPractice>({
    odsCode: attr(child(organisation, 'id'), 'extension') ?? '',
    name: text(child(organisation, 'name')),
  });
}

function sexCode(code: string | undefined): SexCode | undefined {
  if (code === undefined) return undefined;
  if ((SEX_CODES as readonly string[]).includes(code)) return code as SexCode;
  throw new SmspResponseFormatError('administrativeGenderCode/@code is outside the Sex vocabulary');
}

// ---- Reading the fast-xml-parser tree -------------------------------------------------------

function isNode(value: XmlValue | undefined): value is XmlNode {
  return typeof value === 'object' && !Array.isArray(value);
}

function first(value: XmlValue | undefined): XmlValue | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Child elements of that local name, in document order. */
function children(parent: XmlValue | undefined, name: string): XmlValue[] {
  const node = first(parent);
  if (!isNode(node) || !Object.hasOwn(node, name)) return [];
  const value = node[name]!;
  return Array.isArray(value) ? value : [value];
}

function child(parent: XmlValue | undefined, name: string): XmlValue | undefined {
  return children(parent, name)[0];
}

/** Follows the first child of each name in turn. */
function path(start: XmlValue | undefined, ...names: string[]): XmlValue | undefined {
  let current = start;
  for (const name of names) current = child(current, name);
  return current;
}

function elementNames(parent: XmlValue | undefined): string[] {
  const node = first(parent);
  return isNode(node) ? Object.keys(node).filter((key) => !key.startsWith(ATTR) && key !== TEXT) : [];
}

/** Breadth-first search for the first element of that local name at any depth. */
function findDescendant(start: XmlValue | undefined, name: string): XmlValue | undefined {
  const queue: XmlValue[] = start === undefined ? [] : [start];
  for (let value = queue.shift(); value !== undefined; value = queue.shift()) {
    if (Array.isArray(value)) {
      queue.push(...value);
      continue;
    }
    const found = child(value, name);
    if (found !== undefined) return found;
    for (const key of elementNames(value)) queue.push((value as XmlNode)[key]!);
  }
  return undefined;
}

function attr(element: XmlValue | undefined, name: string): string | undefined {
  const node = first(element);
  if (!isNode(node)) return undefined;
  const value = node[ATTR + name];
  return typeof value === 'string' ? value : undefined;
}

/** The element's text: '' for an empty element, undefined when the element is absent. */
function text(element: XmlValue | undefined): string | undefined {
  const node = first(element);
  if (node === undefined) return undefined;
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return undefined;
  const value = node[TEXT];
  return typeof value === 'string' ? value : '';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The values given, or undefined when there are none (so the field reads as absent). */
function nonEmptyList(values: Array<string | undefined>): string[] | undefined {
  const present = values.filter((value): value is string => value !== undefined);
  return present.length === 0 ? undefined : present;
}

/** Drops keys whose value is undefined, so "not returned" reads as absent rather than present-but-undefined. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
