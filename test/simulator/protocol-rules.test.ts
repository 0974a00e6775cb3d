import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERACTIONS, type Interaction } from '../../src/domain/interaction.js';
import type { PatientQuery } from '../../src/domain/demographics.js';
import { checkPayloadStructure } from '../../src/simulator/payload-structure.js';
import { checkRequest, decidingRule, PROTOCOL_RULES, RecentMessageIds, RULE_IDS, type RuleId } from '../../src/simulator/protocol-rules.js';
import { readRequest, RequestReadError } from '../../src/simulator/request-reader.js';
import { validateXml, extractElement } from '../support/schemas.js';
import {
  fakeDirectory,
  freshIds,
  itkErrorCodeOf,
  nhsSampleRequest,
  rawPost,
  rawRequest,
  responseCodeOf,
  startTestSimulator,
  upperUuid,
  wsuTime,
  type RawPostOptions,
  type TestSimulator,
} from '../support/simulator.js';

const GET_NHS_NUMBER = 'urn:nhs-itk:services:201005:getNHSNumber-v1-0';
const MINUTE = 60_000;

let simulator: TestSimulator;

beforeAll(async () => {
  simulator = await startTestSimulator({
    directory: fakeDirectory(() => ({ responseCode: 'SMSP-0000', nhsNumber: '9990000018' })),
  });
});
afterAll(async () => {
  await simulator.close();
});

/** One way to break exactly one rule, starting from the NHS sample with fresh ids and timestamp. */
interface Breakage {
  rule: RuleId;
  how: string;
  request: () => string;
  options?: RawPostOptions;
}

function sample(): string {
  return nhsSampleRequest();
}

function sampleAt(created: Date, expires: Date): string {
  return nhsSampleRequest(freshIds(), created).replace(/<wsu:Expires>[^<]*<\/wsu:Expires>/, `<wsu:Expires>${wsuTime(expires)}</wsu:Expires>`);
}

function replacing(search: string | RegExp, replacement: string): () => string {
  return () => {
    const body = sample();
    const changed = body.replace(search, replacement);
    if (changed === body) throw new Error(`test setup: ${String(search)} not found in the sample`);
    return changed;
  };
}

/** Replaces the Person.X element of the sample's queryEvent. */
function withParameter(name: string, xml: string): () => string {
  return replacing(new RegExp(`<Person\\.${name}>[\\s\\S]*?</Person\\.${name}>`), xml);
}

const FAULT_BREAKAGES: Breakage[] = [
  { rule: 'XML-WELL-FORMED', how: 'an unclosed envelope', request: replacing('</soap:Envelope>', '') },
  {
    rule: 'XML-WELL-FORMED',
    how: 'a DOCTYPE declaring an entity',
    request: replacing('<soap:Envelope', '<!DOCTYPE soap:Envelope [<!ENTITY x "y">]><soap:Envelope'),
  },
  {
    rule: 'SOAP-VERSION',
    how: 'a SOAP 1.2 envelope',
    request: replacing('xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"', 'xmlns:soap="http://www.w3.org/2003/05/soap-envelope"'),
  },
  { rule: 'SOAP-ENVELOPE', how: 'a root that is not a SOAP Envelope', request: () => '<?xml version="1.0"?><Envelope/>' },
  { rule: 'HTTP-CONTENT-TYPE', how: 'Content-Type application/json', request: sample, options: { contentType: 'application/json' } },
  {
    rule: 'KNOWN-SERVICE',
    how: 'a service that is not one of the five',
    request: () => sample().replaceAll(GET_NHS_NUMBER, 'urn:nhs-itk:services:201005:getEverything-v1-0'),
  },
  {
    rule: 'ACTION-MATCHES-SERVICE',
    how: 'wsa:Action naming another service than the DE',
    request: replacing(`<wsa:Action>${GET_NHS_NUMBER}</wsa:Action>`, '<wsa:Action>urn:nhs-itk:services:201005:verifyNHSNumber-v1-0</wsa:Action>'),
    options: { soapAction: GET_NHS_NUMBER },
  },
  {
    rule: 'ACTION-MATCHES-SERVICE',
    how: 'a SOAPAction header naming another service than wsa:Action',
    request: sample,
    options: { soapAction: 'urn:nhs-itk:services:201005:verifyNHSNumber-v1-0' },
  },
  {
    rule: 'WS-ADR-01',
    how: 'a lower-case MessageID',
    request: () => {
      const ids = freshIds();
      return nhsSampleRequest(ids).replace(ids.messageId, ids.messageId.toLowerCase());
    },
  },
  {
    rule: 'WS-ADR-01',
    how: 'a MessageID with a uuid: prefix',
    request: () => {
      const ids = freshIds();
      return nhsSampleRequest(ids).replace(`>${ids.messageId}<`, `>uuid:${ids.messageId}<`);
    },
  },
  { rule: 'WSA-TO-FROM', how: 'no wsa:From', request: replacing(/<wsa:From>[\s\S]*?<\/wsa:From>/, '') },
  { rule: 'WSA-TO-FROM', how: 'no wsa:To', request: replacing(/<wsa:To>[\s\S]*?<\/wsa:To>/, '') },
  { rule: 'TIMESTAMP-WINDOW', how: 'an expired timestamp', request: () => sampleAt(new Date(Date.now() - 20 * MINUTE), new Date(Date.now() - 10 * MINUTE)) },
  { rule: 'TIMESTAMP-WINDOW', how: 'Created five minutes in the future', request: () => sampleAt(new Date(Date.now() + 5 * MINUTE), new Date(Date.now() + 10 * MINUTE)) },
  { rule: 'TIMESTAMP-WINDOW', how: 'a 15-minute validity period', request: () => sampleAt(new Date(), new Date(Date.now() + 15 * MINUTE)) },
  { rule: 'TIMESTAMP-WINDOW', how: 'no wsu:Timestamp', request: replacing(/<wsu:Timestamp[\s\S]*?<\/wsu:Timestamp>/, '') },
  { rule: 'TIMESTAMP-WINDOW', how: 'a Created without a time zone', request: replacing(/(<wsu:Created>[^<]*)Z</, '$1<') },
  { rule: 'DISTRIBUTION-ENVELOPE', how: 'a SOAP Body without a DistributionEnvelope', request: replacing(/<soap:Body>[\s\S]*<\/soap:Body>/, '<soap:Body><ping/></soap:Body>') },
  { rule: 'MANIFEST-COUNT', how: 'manifest/@count 2 for one item', request: replacing('<itk:manifest count="1">', '<itk:manifest count="2">') },
  { rule: 'MANIFEST-COUNT', how: 'payloads/@count 0 for one payload', request: replacing('<itk:payloads count="1">', '<itk:payloads count="0">') },
  { rule: 'MANIFEST-PAYLOAD-IDS', how: 'a manifest item naming no payload', request: replacing(/<itk:manifestitem id="uuid_[^"]+"/, `<itk:manifestitem id="uuid_${upperUuid()}"`) },
  {
    rule: 'MANIFEST-PROFILE',
    how: 'the profile id of another interaction',
    request: replacing('urn:nhs-en:profile:getNHSNumberRequest-v1-0', 'urn:nhs-en:profile:getPatientDetailsRequest-v1-0'),
  },
  { rule: 'MANIFEST-PROFILE', how: 'no profile id', request: replacing(/ profileid="[^"]*"/, '') },
  {
    rule: 'UPPERCASE-UUIDS',
    how: 'a lower-case trackingid',
    request: () => {
      const ids = freshIds();
      return nhsSampleRequest(ids).replace(ids.trackingId, ids.trackingId.toLowerCase());
    },
  },
  {
    rule: 'UNIQUE-IDS',
    how: 'the MessageID reused as trackingid',
    request: () => {
      const ids = freshIds();
      return nhsSampleRequest({ ...ids, trackingId: ids.messageId });
    },
  },
  { rule: 'USERNAME-PRESENT', how: 'no UsernameToken', request: replacing(/<wsse:UsernameToken>[\s\S]*?<\/wsse:UsernameToken>/, '') },
  { rule: 'AUDIT-IDENTITY-PRESENT', how: 'no auditIdentity', request: replacing(/<itk:auditIdentity>[\s\S]*?<\/itk:auditIdentity>/, '') },
  { rule: 'AUDIT-IDENTITY-PRESENT', how: 'an identity without uri', request: replacing(' uri="868000003114"', '') },
];

const PAYLOAD_BREAKAGES: Breakage[] = [
  {
    rule: 'PAYLOAD-ROOT-MATCHES-SERVICE',
    how: 'the HL7 payload in another namespace',
    request: replacing('<getNHSNumberRequest-v1-0 xmlns="urn:hl7-org:v3"', '<getNHSNumberRequest-v1-0 xmlns="urn:hl7-org:v2"'),
  },
  {
    rule: 'PAYLOAD-ROOT-MATCHES-SERVICE',
    how: 'the payload of another interaction',
    request: () => sample().replace(/<getNHSNumberRequest-v1-0 /, '<verifyNHSNumberRequest-v1-0 ').replace('</getNHSNumberRequest-v1-0>', '</verifyNHSNumberRequest-v1-0>'),
  },
  { rule: 'PAYLOAD-CODE', how: 'another code/@code', request: replacing('code="getNHSNumberRequest-v1-0"', 'code="getNHSNumber-v1-0"') },
  {
    rule: 'PAYLOAD-CODE',
    how: 'another code/@codeSystem',
    request: replacing('codeSystem="2.16.840.1.113883.2.1.3.2.4.17.284"', 'codeSystem="2.16.840.1.113883.2.1.3.2.4.17.285"'),
  },
  { rule: 'SCHEMA-VALID', how: 'no Person.Gender (required for getNHSNumber)', request: withParameter('Gender', '') },
  {
    rule: 'SCHEMA-VALID',
    how: 'Person.Gender after Person.Name',
    request: () => {
      const body = sample();
      const gender = /<Person\.Gender>[\s\S]*?<\/Person\.Gender>/.exec(body)![0];
      return body.replace(gender, '').replace('</Person.Name>', `</Person.Name>${gender}`);
    },
  },
  {
    rule: 'SCHEMA-VALID',
    how: 'two given names',
    request: replacing('<given>LILITH</given>', '<given>LILITH</given><given>ANNE</given>'),
  },
  { rule: 'SCHEMA-VALID', how: 'sex code 3', request: replacing('<value code="2"', '<value code="3"') },
  { rule: 'SCHEMA-VALID', how: 'a date of birth with hours and minutes', request: replacing('value="19770705"', 'value="197707051200"') },
  { rule: 'SCHEMA-VALID', how: 'a wrong semanticsText', request: replacing('<semanticsText>Person.Name</semanticsText>', '<semanticsText>Name</semanticsText>') },
  {
    rule: 'SCHEMA-VALID',
    how: 'a lower-case HL7 id root',
    request: () => {
      const ids = freshIds();
      return nhsSampleRequest(ids).replace(`root="${ids.hl7Id}"`, `root="${ids.hl7Id.toLowerCase()}"`);
    },
  },
  { rule: 'SCHEMA-VALID', how: 'Person.Name/value/@use in a search', request: replacing(/<Person\.Name>\s*<value>/, '<Person.Name><value use="L">') },
  {
    rule: 'SCHEMA-VALID',
    how: 'a street line in the postcode parameter',
    request: replacing('<postalCode>SK8 5HS</postalCode>', '<postalCode>SK8 5HS</postalCode><streetAddressLine>1 HIGH ST</streetAddressLine>'),
  },
  { rule: 'SCHEMA-VALID', how: 'an unknown parameter', request: replacing('<queryEvent>', '<queryEvent><Person.Shoe><value value="9"/><semanticsText>Person.Shoe</semanticsText></Person.Shoe>') },
  { rule: 'SCHEMA-VALID', how: 'classCode other than CACT', request: replacing('classCode="CACT"', 'classCode="OBS"') },
];

describe('each protocol rule rejects a request that breaks it (over mutual TLS, raw requests)', () => {
  it('accepts the NHS sample request with fresh ids and timestamp', async () => {
    const response = await rawPost(simulator, sample());
    expect(response.status).toBe(200);
    expect(response.headers['x-simulator-violations']).toBeUndefined();
    expect(responseCodeOf(response.body)).toBe('SMSP-0000');
  });

  it.each(FAULT_BREAKAGES.map((b) => [b.rule, b.how, b] as const))('%s: %s is answered with an ITK SOAP fault naming the rule', async (rule, _how, breakage) => {
    const response = await rawPost(simulator, breakage.request(), breakage.options);
    const expected = PROTOCOL_RULES.get(rule)!.answer;
    expect(expected.kind).toBe('itk-fault');
    expect(response.status).toBe(500);
    expect(response.headers['x-simulator-violations']).toBe(rule);
    expect(itkErrorCodeOf(response.body)).toBe(expected.kind === 'itk-fault' ? expected.itkCode : '');
    expect(response.body).toContain('<wsa:Action>http://www.w3.org/2005/08/addressing/soap/fault</wsa:Action>');
    expect(response.body).toContain(`${rule}: `);
  });

  it.each(PAYLOAD_BREAKAGES.map((b) => [b.rule, b.how, b] as const))('%s: %s is answered with SMSP-0001 naming the rule', async (rule, _how, breakage) => {
    const response = await rawPost(simulator, breakage.request(), breakage.options);
    expect(response.status).toBe(200);
    expect(response.headers['x-simulator-violations']).toBe(rule);
    expect(responseCodeOf(response.body)).toBe('SMSP-0001');
    expect(response.body).toContain('<getNHSNumberResponse-v1-0 ');
  });

  it('MESSAGE-ID-REPLAY: a request sent twice is refused the second time', async () => {
    const body = sample();
    const first = await rawPost(simulator, body);
    const second = await rawPost(simulator, body);
    expect(first.status).toBe(200);
    expect(second.status).toBe(500);
    expect(second.headers['x-simulator-violations']).toBe('MESSAGE-ID-REPLAY');
  });

  it('answers a SOAP 1.2 envelope with a VersionMismatch fault', async () => {
    const response = await rawPost(simulator, FAULT_BREAKAGES.find((b) => b.rule === 'SOAP-VERSION')!.request());
    expect(response.body).toContain('<faultcode>soap:VersionMismatch</faultcode>');
  });

  it('names every broken rule, and answers with the first in table order', async () => {
    const ids = freshIds();
    const body = nhsSampleRequest(ids).replace(ids.trackingId, ids.trackingId.toLowerCase()).replace('<value code="2"', '<value code="7"');
    const response = await rawPost(simulator, body);
    expect(response.headers['x-simulator-violations']).toBe('UPPERCASE-UUIDS,SCHEMA-VALID');
    expect(response.status).toBe(500);
  });

  it('counts violations by rule id in the metrics', async () => {
    simulator.resetMetrics();
    await rawPost(simulator, sample(), { contentType: 'application/xml' });
    await rawPost(simulator, sample(), { contentType: 'application/xml' });
    await rawPost(simulator, replacing('<value code="2"', '<value code="5"')());
    const metrics = simulator.metrics();
    expect(metrics.violations).toEqual({ 'HTTP-CONTENT-TYPE': 2, 'SCHEMA-VALID': 1 });
    expect(metrics.requests.getNHSNumber).toEqual({ 'ITK-1000': 2, 'SMSP-0001': 1 });
  });

  it('accepts a quoted SOAPAction and a request without SOAPAction', async () => {
    expect((await rawPost(simulator, sample(), { soapAction: `"${GET_NHS_NUMBER}"` })).status).toBe(200);
    expect((await rawPost(simulator, sample(), { soapAction: null })).status).toBe(200);
  });

  it('covers every rule in the table with at least one breaking request', () => {
    const covered = new Set<string>([...FAULT_BREAKAGES, ...PAYLOAD_BREAKAGES].map((b) => b.rule));
    covered.add('MESSAGE-ID-REPLAY');
    expect(RULE_IDS.filter((id) => !covered.has(id))).toEqual([]);
  });
});

describe('the timestamp window (checkRequest with a fixed clock)', () => {
  const now = new Date('2025-03-01T12:00:00Z');
  const at = (created: string, expires: string) =>
    checkRequest(readRequest(nhsSampleRequest(freshIds(), now).replace(/<wsu:Created>[^<]*</, `<wsu:Created>${created}<`).replace(/<wsu:Expires>[^<]*</, `<wsu:Expires>${expires}<`), GET_NHS_NUMBER), {
      now,
      contentType: 'text/xml',
    }).map((v) => v.rule);

  it('accepts Created up to the clock skew in the future and exactly ten minutes of validity', () => {
    expect(at('2025-03-01T12:01:00Z', '2025-03-01T12:11:00Z')).toEqual([]);
    expect(at('2025-03-01T11:55:00Z', '2025-03-01T12:05:00.500+00:00')).toEqual([]);
  });

  it('rejects Created beyond the skew, Expires now or before, Expires before Created, and a long validity', () => {
    expect(at('2025-03-01T12:01:01Z', '2025-03-01T12:05:00Z')).toEqual(['TIMESTAMP-WINDOW']);
    expect(at('2025-03-01T11:50:00Z', '2025-03-01T12:00:00Z')).toEqual(['TIMESTAMP-WINDOW']);
    expect(at('2025-03-01T12:00:30Z', '2025-03-01T12:00:10Z')).toEqual(['TIMESTAMP-WINDOW']);
    expect(at('2025-03-01T12:00:00Z', '2025-03-01T12:11:01Z')).toEqual(['TIMESTAMP-WINDOW']);
  });

  it('reads offsets: 13:05+01:00 is 12:05Z', () => {
    expect(at('2025-03-01T13:00:00+01:00', '2025-03-01T13:05:00+01:00')).toEqual([]);
  });
});

describe('the request reader', () => {
  it('reads the envelope whatever prefixes the client chose', () => {
    const body = nhsSampleRequest()
      .replaceAll('soap:', 'SOAP-ENV:')
      .replace('xmlns:soap=', 'xmlns:SOAP-ENV=')
      .replaceAll('<itk:', '<toolkit:')
      .replaceAll('</itk:', '</toolkit:')
      .replace('xmlns:itk=', 'xmlns:toolkit=');
    const request = readRequest(body, GET_NHS_NUMBER);
    expect(request.interaction).toBe('getNHSNumber');
    expect(request.envelope?.auditIdentity).toEqual([{ type: '1.2.826.0.1285.0.2.0.107', uri: '868000003114' }]);
    expect(request.payload?.query).toEqual({ familyName: 'LAWALI', givenName: 'LILITH', dateOfBirth: '19770705', sex: '2', postcode: 'SK8 5HS' });
    expect(checkRequest(request, { now: new Date(), contentType: 'text/xml' })).toEqual([]);
  });

  it('keeps leading zeros and decodes entities in query values', () => {
    const body = rawRequest('getNHSNumber', { familyName: "O'BRIEN & SON", dateOfBirth: '19770705', sex: '1', localId: '007' });
    const request = readRequest(body);
    expect(request.payload?.query.familyName).toBe("O'BRIEN & SON");
    expect(request.payload?.query.localId).toBe('007');
    expect(request.payload?.localIdentifierRoot).toBe('2.16.840.1.113883.2.1.3.2.4.18.24');
  });

  it('refuses a DOCTYPE without expanding it', () => {
    const body = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY big "x">]><a>&big;</a>';
    expect(() => readRequest(body)).toThrow(RequestReadError);
  });

  it('routes on the DE service, else wsa:Action, else SOAPAction', () => {
    const body = nhsSampleRequest();
    const verify = 'urn:nhs-itk:services:201005:verifyNHSNumber-v1-0';
    expect(readRequest(body, verify).interaction).toBe('getNHSNumber');
    const withoutService = body.replace(/ service="[^"]*"/, '');
    expect(readRequest(withoutService, verify).interaction).toBe('getNHSNumber');
    expect(readRequest(withoutService.replace(/<wsa:Action>[^<]*<\/wsa:Action>/, ''), verify).interaction).toBe('verifyNHSNumber');
  });
});

describe('the structural payload check agrees with the XSDs', () => {
  const queries: Record<Interaction, PatientQuery> = {
    verifyNHSNumber: { nhsNumber: '9449310092', dateOfBirth: '19770705', givenName: 'ANNE', familyName: 'SMITH' },
    getNHSNumber: { familyName: 'SMITH', givenName: 'ANNE', dateOfBirth: '197707', sex: '2', postcode: 'LS1 4HY', localId: 'L-1' },
    getPatientDetailsByNHSNumber: { nhsNumber: '9449310092', dateOfBirth: '19770705', localId: 'L-2' },
    getPatientDetailsBySearch: { familyName: "D'SOUZA", dateOfBirth: '1977', sex: '9' },
    getPatientDetails: { nhsNumber: '9449310092', dateOfBirth: '19770705', sex: '1', familyName: 'SMITH', postcode: 'LS1*' },
  };
  const schemas: Record<Interaction, string> = {
    verifyNHSNumber: 'Schemas/QUPA_MT000001GB01.xsd',
    getNHSNumber: 'Schemas/QUPA_MT000002GB01.xsd',
    getPatientDetailsByNHSNumber: 'Schemas/QUPA_MT000003GB01.xsd',
    getPatientDetailsBySearch: 'Schemas/QUPA_MT000004GB01.xsd',
    getPatientDetails: 'Schemas/QUPA_MT000005GB01.xsd',
  };
  const payloadOf = (body: string) => readRequest(body).payload!;

  it.each(INTERACTIONS.map((i) => [i]))('a valid %s payload passes both the structural check and its XSD', async (interaction) => {
    const body = rawRequest(interaction, queries[interaction]);
    expect(checkPayloadStructure(interaction, payloadOf(body).element)).toEqual([]);
    const root = payloadOf(body).root;
    expect(await validateXml(extractElement(body, root), schemas[interaction])).toMatchObject({ valid: true });
  });

  it.each([
    ['a missing Person.NHSNumber', (b: string) => b.replace(/<Person\.NHSNumber>[\s\S]*?<\/Person\.NHSNumber>/, '')],
    ['a wrong NHS number root', (b: string) => b.replace('root="2.16.840.1.113883.2.1.4.1"', 'root="2.16.840.1.113883.2.1.4.2"')],
    ['Name before NHSNumber', (b: string) => {
      const name = /<Person\.Name>[\s\S]*?<\/Person\.Name>/.exec(b)![0];
      return b.replace(name, '').replace('<Person.NHSNumber>', `${name}<Person.NHSNumber>`);
    }],
    ['an empty date of birth', (b: string) => b.replace('value="19770705"', 'value=""')],
  ])('a verify payload with %s fails both the structural check and the XSD', async (_what, mutate) => {
    const body = mutate(rawRequest('verifyNHSNumber', queries.verifyNHSNumber));
    expect(checkPayloadStructure('verifyNHSNumber', payloadOf(body).element)).not.toEqual([]);
    expect((await validateXml(extractElement(body, 'verifyNHSNumberRequest-v1-0'), schemas.verifyNHSNumber)).valid).toBe(false);
  });

  it('names paths and constraints, never the values sent', () => {
    const body = rawRequest('getNHSNumber', { familyName: 'SMITH', dateOfBirth: '19770705', sex: '1' }).replace('value="19770705"', 'value="1977070599"');
    const problems = checkPayloadStructure('getNHSNumber', payloadOf(body).element);
    expect(problems).toEqual(['getNHSNumberRequest-v1-0/queryEvent/Person.DateOfBirth/value/@value: must be YYYY, YYYYMM or YYYYMMDD']);
    expect(problems.join()).not.toContain('1977');
  });
});

describe('the answer of the rule table', () => {
  it('gives envelope rules ITK faults and payload rules SMSP-0001', () => {
    const kinds = Object.fromEntries([...PROTOCOL_RULES.values()].map((rule) => [rule.id, rule.answer.kind]));
    expect(kinds['SCHEMA-VALID']).toBe('response-code');
    expect(kinds['PAYLOAD-CODE']).toBe('response-code');
    expect(kinds['TIMESTAMP-WINDOW']).toBe('itk-fault');
    expect(decidingRule([{ rule: 'SCHEMA-VALID', detail: '' }, { rule: 'WS-ADR-01', detail: '' }])?.id).toBe('WS-ADR-01');
  });

  it('forgets the oldest MessageIDs beyond its capacity', () => {
    const recent = new RecentMessageIds(2);
    expect(recent.remember('A')).toBe(true);
    expect(recent.remember('a')).toBe(false);
    recent.remember('B');
    recent.remember('C');
    expect(recent.remember('A')).toBe(true);
  });
});
