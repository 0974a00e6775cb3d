import type { PatientQuery, SexCode } from '../domain/demographics.js';
import { interactionForService, NS, type Interaction } from '../smsp/interactions.js';
import { childElement, childElements, elementAt, findDescendant, parseXmlTree, XmlReadError, type XmlElement } from './xml-tree.js';

/**
 * The simulator's own reading of an SMSP request (SPEC §1–§4). It is written apart from the
 * client's builder on purpose: a simulator that shared the client's XML code would agree with every
 * mistake the client made. It reads leniently: whatever is missing or odd is left for the protocol
 * rules to name; only a body that is not a SOAP 1.1 envelope at all is refused here.
 */

export const SOAP_12_NS = 'http://www.w3.org/2003/05/soap-envelope';

/** The request, as strings exactly as sent (counts included), `undefined` where absent. */
export interface SmspRequestView {
  /** Chosen from the DE service, else wsa:Action, else SOAPAction (SPEC §1: all carry the same value). */
  interaction: Interaction | undefined;
  /** The HTTP SOAPAction header, quotes removed; undefined when not sent (allowed, SPEC §11 q.2). */
  soapAction: string | undefined;
  header: {
    messageId?: string;
    action?: string;
    to?: string;
    from?: string;
    /** wsu:Timestamp; undefined when no Timestamp element was sent. */
    timestamp?: { id?: string; created?: string; expires?: string };
    username?: string;
  };
  /** The ITK DistributionEnvelope; undefined when the SOAP Body holds none. */
  envelope?: {
    service?: string;
    trackingId?: string;
    auditIdentity: Array<{ type?: string; uri?: string }>;
    manifest: { count?: string; items: Array<{ id?: string; mimetype?: string; profileid?: string }> };
    payloads: { count?: string; ids: Array<string | undefined> };
  };
  /** The HL7 V3 element inside the first itk:payload; undefined when there is none. */
  payload?: {
    root: string;
    namespace: string | undefined;
    /** id/@root */
    id?: string;
    code?: string;
    codeSystem?: string;
    /** The query parameters as sent, for the directory; structure is SCHEMA-VALID's business. */
    query: PatientQuery;
    /** Person.LocalIdentifier/value/@root, echoed back with the local id (SPEC §11 q.10). */
    localIdentifierRoot?: string;
    /** The element itself, for the structural schema checks. */
    element: XmlElement;
  };
}

/** Why a body is not an SMSP request at all, with the protocol rule it breaks. */
export class RequestReadError extends Error {
  override readonly name = 'RequestReadError';
  constructor(
    readonly rule: 'XML-WELL-FORMED' | 'SOAP-ENVELOPE' | 'SOAP-VERSION',
    message: string,
  ) {
    super(message);
  }
}

/** Reads a request body (and its HTTP SOAPAction header). Throws `RequestReadError`. */
export function readRequest(body: string, soapActionHeader?: string): SmspRequestView {
  const root = parseRoot(body);
  if (root.name !== 'Envelope' || (root.ns !== NS.soap && root.ns !== SOAP_12_NS)) {
    throw new RequestReadError('SOAP-ENVELOPE', 'the root element is not a SOAP Envelope');
  }
  if (root.ns === SOAP_12_NS) {
    throw new RequestReadError('SOAP-VERSION', 'the envelope is SOAP 1.2; SMSP speaks SOAP 1.1');
  }
  const soapHeader = childElement(root, 'Header', NS.soap);
  const soapBody = childElement(root, 'Body', NS.soap);
  if (soapBody === undefined) throw new RequestReadError('SOAP-ENVELOPE', 'the SOAP Envelope has no Body');

  const header = readSoapHeader(soapHeader);
  const de = findDescendant(soapBody, 'DistributionEnvelope', NS.itk);
  const envelope = de === undefined ? undefined : readDistributionEnvelope(de);
  const payloadElement = de === undefined ? undefined : elementAt(de, ['payloads', 'payload'], NS.itk)?.children[0];
  const soapAction = unquote(soapActionHeader);
  // The DE names what the payload is; wsa:Action and SOAPAction must agree with it (ACTION-MATCHES-SERVICE),
  // and routing on it keeps a disagreement to that one rule instead of a cascade of payload errors.
  const service = [envelope?.service, header.action, soapAction].find((value) => value !== undefined && value !== '');
  return {
    interaction: service === undefined ? undefined : interactionForService(service),
    soapAction,
    header,
    envelope,
    payload: payloadElement === undefined ? undefined : readPayload(payloadElement),
  };
}

function parseRoot(body: string): XmlElement {
  try {
    return parseXmlTree(body);
  } catch (err) {
    if (err instanceof XmlReadError) throw new RequestReadError('XML-WELL-FORMED', err.message);
    throw err;
  }
}

function readSoapHeader(soapHeader: XmlElement | undefined): SmspRequestView['header'] {
  const security = childElement(soapHeader, 'Security', NS.wsse);
  const timestamp = childElement(security, 'Timestamp', NS.wsu);
  return {
    messageId: textOf(childElement(soapHeader, 'MessageID', NS.wsa)),
    action: textOf(childElement(soapHeader, 'Action', NS.wsa)),
    to: textOf(childElement(soapHeader, 'To', NS.wsa)),
    from: textOf(elementAt(soapHeader, ['From', 'Address'], NS.wsa)),
    timestamp:
      timestamp === undefined
        ? undefined
        : {
            id: timestamp.attrs.get('Id'),
            created: textOf(childElement(timestamp, 'Created', NS.wsu)),
            expires: textOf(childElement(timestamp, 'Expires', NS.wsu)),
          },
    username: textOf(elementAt(security, ['UsernameToken', 'Username'], NS.wsse)),
  };
}

function readDistributionEnvelope(de: XmlElement): NonNullable<SmspRequestView['envelope']> {
  const header = childElement(de, 'header', NS.itk);
  const manifest = childElement(header, 'manifest', NS.itk);
  const payloads = childElement(de, 'payloads', NS.itk);
  return {
    service: header?.attrs.get('service'),
    trackingId: header?.attrs.get('trackingid'),
    auditIdentity: childElements(childElement(header, 'auditIdentity', NS.itk), 'id', NS.itk).map((id) => ({
      type: id.attrs.get('type'),
      uri: id.attrs.get('uri'),
    })),
    manifest: {
      count: manifest?.attrs.get('count'),
      items: childElements(manifest, 'manifestitem', NS.itk).map((item) => ({
        id: item.attrs.get('id'),
        mimetype: item.attrs.get('mimetype'),
        profileid: item.attrs.get('profileid'),
      })),
    },
    payloads: {
      count: payloads?.attrs.get('count'),
      ids: childElements(payloads, 'payload', NS.itk).map((payload) => payload.attrs.get('id')),
    },
  };
}

function readPayload(element: XmlElement): NonNullable<SmspRequestView['payload']> {
  const code = childElement(element, 'code');
  const queryEvent = childElement(element, 'queryEvent');
  const parameter = (name: string) => childElement(childElement(queryEvent, `Person.${name}`), 'value');
  const name = parameter('Name');
  const localIdentifier = parameter('LocalIdentifier');
  const query: PatientQuery = withoutUndefined({
    nhsNumber: parameter('NHSNumber')?.attrs.get('extension'),
    familyName: textOf(childElement(name, 'family')),
    givenName: textOf(childElement(name, 'given')),
    dateOfBirth: parameter('DateOfBirth')?.attrs.get('value') ?? '',
    sex: parameter('Gender')?.attrs.get('code') as SexCode | undefined,
    postcode: textOf(childElement(parameter('Postcode'), 'postalCode')),
    localId: localIdentifier?.attrs.get('extension'),
  });
  return {
    root: element.name,
    namespace: element.ns,
    id: childElement(element, 'id')?.attrs.get('root'),
    code: code?.attrs.get('code'),
    codeSystem: code?.attrs.get('codeSystem'),
    query,
    localIdentifierRoot: localIdentifier?.attrs.get('root'),
    element,
  };
}

function textOf(element: XmlElement | undefined): string | undefined {
  return element?.text;
}

/** SOAPAction may be sent quoted or not (SPEC §1: NHS examples unquoted, [MOCK] accepts both). */
function unquote(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.trim().replace(/^"(.*)"$/, '$1');
}

function withoutUndefined<T extends object>(value: T): T {
  const defined: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) defined[key] = v;
  return defined as T;
}
