import { fc, test } from '@fast-check/vitest';
import { XMLParser } from 'fast-xml-parser';
import { create } from 'xmlbuilder2';
import { describe, expect, it } from 'vitest';
import type { PatientQuery } from '../../src/domain/demographics.js';
import { buildRequest } from '../../src/smsp/build-request.js';
import { SmspRequestInputError } from '../../src/smsp/errors.js';
import { appendQueryPayload } from '../../src/smsp/hl7-query.js';
import { newEnvelopeIds } from '../../src/smsp/ids.js';
import { INTERACTION_SPECS, INTERACTIONS, NS, OID, type Interaction } from '../../src/smsp/interactions.js';
import { checkQuery } from '../../src/smsp/local-checks.js';
import { buildSoapEnvelope, timestampTexts } from '../../src/smsp/soap-envelope.js';
import type { EnvelopeContext } from '../../src/smsp/types.js';
import { readSample } from '../support/samples.js';
import { extractElement, validateXml } from '../support/schemas.js';

const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const DE_SCHEMA = 'Schemas/distributionEnvelope-v2-0.xsd';

/** Fixed ids and clock, so every build is reproducible (ids from the NHS OpenTest example). */
const CTX: EnvelopeContext = {
  messageId: 'B72F7785-534C-11E6-ADCA-29C651A3BE6F',
  trackingId: 'B72F9E96-534C-11E6-ADCA-29C651A3BE6F',
  payloadId: '808A9678-49B2-498B-AD75-1D7A0F1262D7',
  timestampId: 'D6CD5232-14CF-11DF-9423-1F9A910D4703',
  // Milliseconds on purpose: the header must drop them.
  created: new Date('2016-07-27T11:10:23.789Z'),
  expiresInSeconds: 600,
  to: 'https://192.168.54.6/smsp/pds',
  from: '192.168.54.7',
  username: 'TKS Server test',
  auditIdentity: { type: OID.asidIdentity, uri: '868000003114' },
  senderAddress: 'urn:nhs-uk:addressing:ods:rhm:team1:C',
};

// Synthetic: NHS numbers from the never-issued 999 range with valid check digits.
const FULL: PatientQuery = {
  nhsNumber: '9990000018',
  familyName: 'SMITH',
  givenName: 'JANE',
  dateOfBirth: '19800101',
  sex: '2',
  postcode: 'LS1 4HY',
  localId: 'ROW-0001',
};

const MINIMAL: Readonly<Record<Interaction, PatientQuery>> = {
  verifyNHSNumber: { nhsNumber: '9996543218', dateOfBirth: '19800101' },
  getNHSNumber: { familyName: 'SMITH', sex: '1', dateOfBirth: '19800101' },
  getPatientDetailsByNHSNumber: { nhsNumber: '9996543218', dateOfBirth: '19800101' },
  getPatientDetailsBySearch: { familyName: 'SMITH', sex: '1', dateOfBirth: '19800101' },
  getPatientDetails: { nhsNumber: '9996543218', dateOfBirth: '19800101' },
};

/** Namespace prefixes dropped so paths read like the spec; text kept exactly as sent. */
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
});
/** For pretty-printed samples, whose indentation would otherwise show up as text. */
const trimmingParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
});

// fast-xml-parser yields untyped trees; tests walk them with `any` and let assertions do the checking.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tree = any;

function parse(xml: string): Tree {
  return parser.parse(xml) as Tree;
}

/** The HL7 payload element of a built request. */
function payloadOf(interaction: Interaction, body: string): Tree {
  return parse(body).Envelope.Body.DistributionEnvelope.payloads.payload[INTERACTION_SPECS[interaction].requestRoot];
}

/** Every element in document order as `depth {namespace}localName`: structure without values. */
function elementOutline(xml: string): string[] {
  const lines: string[] = [];
  create(xml).each(
    (child, _index, level) => {
      const node = child.node as unknown as { nodeType: number; namespaceURI: string | null; localName: string };
      if (node.nodeType === 1) lines.push(`${level} {${node.namespaceURI ?? ''}}${node.localName}`);
    },
    false,
    true,
  );
  return lines;
}

async function expectValid(xml: string, schema: string): Promise<void> {
  const result = await validateXml(xml, schema);
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

describe('buildRequest schema validity', () => {
  const cases = INTERACTIONS.flatMap((interaction) => [
    { interaction, label: 'full', query: FULL },
    { interaction, label: 'minimal', query: MINIMAL[interaction] },
  ]);
  cases.push({
    interaction: 'getPatientDetails',
    label: 'search-form (no NHS number, partial date, wildcards)',
    query: { familyName: 'SM*', givenName: 'JA*', sex: '9', dateOfBirth: '198001', postcode: 'LS1*' },
  });

  it.each(cases)('$interaction with a $label query: the DE and the HL7 payload validate against their XSDs', async ({ interaction, query }) => {
    const { body } = buildRequest(interaction, query, CTX);
    await expectValid(extractElement(body, 'DistributionEnvelope'), DE_SCHEMA);
    const spec = INTERACTION_SPECS[interaction];
    await expectValid(extractElement(body, spec.requestRoot), `Schemas/${spec.requestSchema}`);
  });
});

describe('buildRequest envelope and header', () => {
  it.each(INTERACTIONS)('%s: SOAPAction, wsa:Action and the DE service are the interaction service', (interaction) => {
    const request = buildRequest(interaction, FULL, CTX);
    const envelope = parse(request.body).Envelope;
    const service = INTERACTION_SPECS[interaction].service;
    expect(request.interaction).toBe(interaction);
    expect(request.soapAction).toBe(service);
    expect(envelope.Header.Action).toBe(service);
    expect(envelope.Body.DistributionEnvelope.header['@service']).toBe(service);
    expect(envelope.Body.DistributionEnvelope.header.manifest.manifestitem['@profileid']).toBe(INTERACTION_SPECS[interaction].requestProfileId);
  });

  it('carries the context values in the SOAP header and DE header', () => {
    const request = buildRequest('getNHSNumber', FULL, CTX);
    const { Header, Body } = parse(request.body).Envelope;
    expect(request.messageId).toBe(CTX.messageId);
    expect(Header.MessageID).toBe(CTX.messageId);
    expect(Header.To).toBe(CTX.to);
    expect(Header.From.Address).toBe(CTX.from);
    expect(Header.Security.UsernameToken.Username).toBe(CTX.username);
    expect(Header.Security.Timestamp['@Id']).toBe(CTX.timestampId);
    const header = Body.DistributionEnvelope.header;
    expect(header['@trackingid']).toBe(CTX.trackingId);
    expect(header.auditIdentity.id).toMatchObject({ '@type': OID.asidIdentity, '@uri': '868000003114' });
    expect(header.senderAddress['@uri']).toBe(CTX.senderAddress);
  });

  it('stamps Created at second precision in UTC and Expires expiresInSeconds later', () => {
    const { Timestamp } = parse(buildRequest('getNHSNumber', FULL, CTX).body).Envelope.Header.Security;
    expect(Timestamp.Created).toBe('2016-07-27T11:10:23Z');
    expect(Timestamp.Expires).toBe('2016-07-27T11:20:23Z');
    expect((Date.parse(Timestamp.Expires) - Date.parse(Timestamp.Created)) / 1000).toBe(600);
  });

  it('declares the wsu namespace on the Timestamp Id attribute', () => {
    const { body } = buildRequest('getNHSNumber', FULL, CTX);
    expect(body).toMatch(new RegExp(`<wsu:Timestamp xmlns:wsu="${NS.wsu}" wsu:Id="${CTX.timestampId}">`));
  });

  it('points the single manifest item at the single payload, whose HL7 id is the payload id', () => {
    const { DistributionEnvelope } = parse(buildRequest('getPatientDetailsBySearch', FULL, CTX).body).Envelope.Body;
    const manifest = DistributionEnvelope.header.manifest;
    expect(manifest['@count']).toBe('1');
    expect(manifest.manifestitem).toMatchObject({
      '@id': `uuid_${CTX.payloadId}`,
      '@mimetype': 'text/xml',
      '@base64': 'false',
      '@compressed': 'false',
      '@encrypted': 'false',
    });
    expect(DistributionEnvelope.payloads['@count']).toBe('1');
    expect(DistributionEnvelope.payloads.payload['@id']).toBe(manifest.manifestitem['@id']);
    expect(payloadOf('getPatientDetailsBySearch', buildRequest('getPatientDetailsBySearch', FULL, CTX).body).id['@root']).toBe(CTX.payloadId);
  });

  it('uses fresh upper-case UUIDs from newEnvelopeIds everywhere TKW checks them, all distinct', () => {
    const ids = newEnvelopeIds();
    const { Header, Body } = parse(buildRequest('verifyNHSNumber', FULL, { ...CTX, ...ids }).body).Envelope;
    const used = [
      Header.MessageID,
      Header.Security.Timestamp['@Id'],
      Body.DistributionEnvelope.header['@trackingid'],
      Body.DistributionEnvelope.payloads.payload['verifyNHSNumberRequest-v1-0'].id['@root'],
    ];
    for (const id of used) expect(id).toMatch(UPPER_UUID);
    expect(new Set(used).size).toBe(4);
    expect(used).toEqual([ids.messageId, ids.timestampId, ids.trackingId, ids.payloadId]);
  });

  it('leaves senderAddress out when the context has none, and still validates', async () => {
    const { senderAddress: _omitted, ...withoutSender } = CTX;
    const { body } = buildRequest('getNHSNumber', FULL, withoutSender);
    expect(body).not.toContain('senderAddress');
    await expectValid(extractElement(body, 'DistributionEnvelope'), DE_SCHEMA);
  });

  it('is deterministic: the same query and context give the same document', () => {
    expect(buildRequest('getPatientDetails', FULL, CTX).body).toBe(buildRequest('getPatientDetails', FULL, CTX).body);
  });

  it('starts with an XML declaration naming UTF-8', () => {
    expect(buildRequest('getNHSNumber', FULL, CTX).body.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  });
});

describe('buildRequest HL7 payload', () => {
  it.each(INTERACTIONS)('%s: root, code, classCode and moodCode are the fixed values', (interaction) => {
    const spec = INTERACTION_SPECS[interaction];
    const payload = payloadOf(interaction, buildRequest(interaction, FULL, CTX).body);
    expect(payload).toMatchObject({ '@classCode': 'CACT', '@moodCode': 'EVN' });
    expect(payload.code).toMatchObject({ '@code': spec.requestCode, '@codeSystem': OID.messageCodeSystem });
  });

  it('getPatientDetails keeps its root/code quirk: root getPatientDetails-v1-0, code getPatientDetailsRequest-v1-0', () => {
    const { body } = buildRequest('getPatientDetails', FULL, CTX);
    expect(body).toContain('<getPatientDetails-v1-0 xmlns="urn:hl7-org:v3"');
    expect(payloadOf('getPatientDetails', body).code['@code']).toBe('getPatientDetailsRequest-v1-0');
  });

  it.each([
    ['verifyNHSNumber', ['Person.DateOfBirth', 'Person.NHSNumber', 'Person.Name']],
    ['getNHSNumber', ['Person.DateOfBirth', 'Person.Gender', 'Person.LocalIdentifier', 'Person.Name', 'Person.Postcode']],
    ['getPatientDetailsByNHSNumber', ['Person.DateOfBirth', 'Person.LocalIdentifier', 'Person.NHSNumber', 'Person.Name']],
    ['getPatientDetailsBySearch', ['Person.DateOfBirth', 'Person.Gender', 'Person.LocalIdentifier', 'Person.Name', 'Person.Postcode']],
    [
      'getPatientDetails',
      ['Person.DateOfBirth', 'Person.Gender', 'Person.LocalIdentifier', 'Person.NHSNumber', 'Person.Name', 'Person.Postcode'],
    ],
  ] as [Interaction, string[]][])('%s sends exactly its schema parameters, in schema order, from a full query', (interaction, expected) => {
    const queryEvent = payloadOf(interaction, buildRequest(interaction, FULL, CTX).body).queryEvent;
    expect(Object.keys(queryEvent)).toEqual(expected);
    for (const name of expected) expect(queryEvent[name].semanticsText).toBe(name);
  });

  it('writes each parameter value in its HL7 form', () => {
    const q = payloadOf('getPatientDetails', buildRequest('getPatientDetails', FULL, CTX).body).queryEvent;
    expect(q['Person.DateOfBirth'].value['@value']).toBe('19800101');
    expect(q['Person.Gender'].value).toMatchObject({ '@code': '2', '@codeSystem': OID.sexCodeSystem });
    expect(q['Person.LocalIdentifier'].value).toMatchObject({ '@root': OID.localIdentifier, '@extension': 'ROW-0001' });
    expect(q['Person.NHSNumber'].value).toMatchObject({ '@root': OID.nhsNumber, '@extension': '9990000018' });
    expect(q['Person.Name'].value).toEqual({ given: 'JANE', family: 'SMITH' });
    expect(q['Person.Postcode'].value).toEqual({ postalCode: 'LS1 4HY' });
  });

  it('uses the context local-identifier root when one is configured', () => {
    const q = payloadOf('getNHSNumber', buildRequest('getNHSNumber', FULL, { ...CTX, localIdentifierRoot: '1.2.3.4.5' }).body).queryEvent;
    expect(q['Person.LocalIdentifier'].value['@root']).toBe('1.2.3.4.5');
  });

  it('omits absent and blank optional values, never sending nullFlavor', () => {
    const query = { ...MINIMAL.getNHSNumber, givenName: '  ', postcode: '' };
    const { body } = buildRequest('getNHSNumber', query, CTX);
    const q = payloadOf('getNHSNumber', body).queryEvent;
    expect(Object.keys(q)).toEqual(['Person.DateOfBirth', 'Person.Gender', 'Person.Name']);
    expect(q['Person.Name'].value).toEqual({ family: 'SMITH' });
    expect(body).not.toContain('nullFlavor');
  });

  it('sends a name with only a given name as one given element', () => {
    const q = payloadOf('verifyNHSNumber', buildRequest('verifyNHSNumber', { ...MINIMAL.verifyNHSNumber, givenName: 'JANE' }, CTX).body).queryEvent;
    expect(q['Person.Name'].value).toEqual({ given: 'JANE' });
  });
});

describe('buildRequest escaping', () => {
  const tricky: PatientQuery = {
    ...FULL,
    familyName: `O'Brien-Ørsted & <Sons> "Ltd"`,
    givenName: 'Zoë-Ñuñez',
    localId: `A"B'C&D<E>`,
  };

  it('escapes XML specials in text and attributes so the document is well formed', () => {
    const { body } = buildRequest('getPatientDetails', tricky, CTX);
    expect(body).toContain('<family>O\'Brien-Ørsted &amp; &lt;Sons&gt; "Ltd"</family>');
    expect(body).toContain('extension="A&quot;B\'C&amp;D&lt;E&gt;"');
    expect(() => create(body)).not.toThrow();
  });

  it('parses back to exactly the names and local identifier supplied', async () => {
    const { body } = buildRequest('getPatientDetails', tricky, CTX);
    const q = payloadOf('getPatientDetails', body).queryEvent;
    expect(q['Person.Name'].value).toEqual({ given: 'Zoë-Ñuñez', family: `O'Brien-Ørsted & <Sons> "Ltd"` });
    expect(q['Person.LocalIdentifier'].value['@extension']).toBe(`A"B'C&D<E>`);
    await expectValid(extractElement(body, 'getPatientDetails-v1-0'), 'Schemas/QUPA_MT000005GB01.xsd');
  });

  // xmlbuilder2 on its own passes `&name;` and `&#n;` through unescaped (src/smsp/xml-text.ts).
  it('sends text that looks like an entity reference literally, not as the entity', async () => {
    const query = { ...FULL, familyName: 'Smith &amp; Co &copy;', givenName: '&#65;&#x42;]]>', localId: 'ROW &lt;1&gt;' };
    const { body } = buildRequest('getPatientDetails', query, CTX);
    expect(body).toContain('<family>Smith &amp;amp; Co &amp;copy;</family>');
    const q = payloadOf('getPatientDetails', body).queryEvent;
    expect(q['Person.Name'].value).toEqual({ given: '&#65;&#x42;]]>', family: 'Smith &amp; Co &copy;' });
    expect(q['Person.LocalIdentifier'].value['@extension']).toBe('ROW &lt;1&gt;');
    await expectValid(extractElement(body, 'getPatientDetails-v1-0'), 'Schemas/QUPA_MT000005GB01.xsd');
  });

  it('sends context values holding ampersands literally too', () => {
    const ctx = { ...CTX, username: 'Ops & Audit &amp; Co', from: 'https://client.example/?a=1&b=2' };
    const { Header } = parse(buildRequest('getNHSNumber', FULL, ctx).body).Envelope;
    expect(Header.Security.UsernameToken.Username).toBe(ctx.username);
    expect(Header.From.Address).toBe(ctx.from);
  });

  /**
   * Names PDS could be sent: any Unicode text, seeded with the fragments that trip XML writers
   * (entity-like text, markup, quotes, CDATA ends), kept to what the local checks accept.
   */
  const XML_TRAPS = ['&', '&amp;', '&lt;', '&copy;', '&#65;', '&#x41;', '<', '>', '"', "'", ']]>', '*'];
  const text = (maxLength: number) =>
    fc
      .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom(...XML_TRAPS)), { minLength: 1, maxLength: 8 })
      .map((pieces) => pieces.join(''))
      .filter((value) => value.trim() !== '' && [...value].length <= maxLength);
  const nameCase = fc
    .record({ interaction: fc.constantFrom(...INTERACTIONS), familyName: text(35), givenName: text(35), localId: text(64) })
    .map(({ interaction, ...names }) => ({ interaction, query: { ...FULL, ...names } }))
    .filter(({ interaction, query }) => checkQuery(interaction, query) === undefined);

  test.prop([nameCase], { numRuns: 100 })(
    'any names and local identifier that pass the local checks parse back exactly as supplied',
    ({ interaction, query }) => {
      const q = payloadOf(interaction, buildRequest(interaction, query, CTX).body).queryEvent;
      expect(q['Person.Name'].value).toEqual({ given: query.givenName, family: query.familyName });
      if (q['Person.LocalIdentifier'] !== undefined) expect(q['Person.LocalIdentifier'].value['@extension']).toBe(query.localId);
    },
  );

  test.prop([nameCase, fc.boolean()], { numRuns: 200 })(
    'the compiled template writes exactly the bytes xmlbuilder2 writes when building the document directly',
    ({ interaction, query }, withSender) => {
      const ctx = withSender ? CTX : { ...CTX, senderAddress: undefined };
      const spec = INTERACTION_SPECS[interaction];
      const direct = buildSoapEnvelope(ctx, {
        service: spec.service,
        profileId: spec.requestProfileId,
        ...timestampTexts(ctx),
        writePayload: (payload) =>
          appendQueryPayload(payload, interaction, query, { payloadId: ctx.payloadId, localIdentifierRoot: ctx.localIdentifierRoot ?? OID.localIdentifier }),
      });
      expect(buildRequest(interaction, query, ctx).body).toBe(direct);
    },
  );

  // xmllint re-reads every schema per run, so 25 payloads go through one run per schema.
  test.prop([fc.array(nameCase, { minLength: 25, maxLength: 25 })], { numRuns: 2 })(
    'payloads built from any names that pass the local checks are schema-valid',
    async (cases) => {
      const bySchema = new Map<string, string[]>();
      for (const { interaction, query } of cases) {
        const spec = INTERACTION_SPECS[interaction];
        const schema = `Schemas/${spec.requestSchema}`;
        const payload = extractElement(buildRequest(interaction, query, CTX).body, spec.requestRoot);
        bySchema.set(schema, [...(bySchema.get(schema) ?? []), payload]);
      }
      for (const [schema, payloads] of bySchema) {
        const result = await validateXml(payloads, schema);
        expect(result.errors).toEqual([]);
      }
    },
  );

  it.each([
    ['a backspace', 'SM\bITH'],
    ['a NUL', 'SM\u0000ITH'],
    ['a C1 control', 'SM\u0085ITH'],
    ['a lone surrogate', 'SM\uD800ITH'],
    ['U+FFFF', 'SM\uFFFFITH'],
  ])('rejects a family name holding %s before building, naming the field but not the value', (_label, familyName) => {
    const build = () => buildRequest('getNHSNumber', { ...MINIMAL.getNHSNumber, familyName }, CTX);
    expect(build).toThrow(SmspRequestInputError);
    try {
      build();
    } catch (err) {
      expect(err).toMatchObject({ field: 'familyName', rule: 'invalid_characters' });
      expect((err as Error).message).toContain('familyName');
      expect((err as Error).message).not.toContain('SM');
    }
  });

  it('rejects a query missing a required field before building', () => {
    expect(() => buildRequest('verifyNHSNumber', { dateOfBirth: '19800101' }, CTX)).toThrow(
      expect.objectContaining({ name: 'SmspRequestInputError', field: 'nhsNumber', rule: 'missing_nhs_number' }),
    );
  });
});

describe('buildRequest against the NHS OpenTest example request', () => {
  const sampleXml = readSample('sample-nhsconnect-spine-smsp-getNHSNumber-request-opentest-example.xml');
  const sample = trimmingParser.parse(sampleXml).Envelope;
  const sampleQuery = sample.Body.DistributionEnvelope.payloads.payload['getNHSNumberRequest-v1-0'].queryEvent;
  // The public OpenTest query, read from the sample itself.
  const query: PatientQuery = {
    dateOfBirth: sampleQuery['Person.DateOfBirth'].value['@value'],
    sex: sampleQuery['Person.Gender'].value['@code'],
    givenName: sampleQuery['Person.Name'].value.given,
    familyName: sampleQuery['Person.Name'].value.family,
    postcode: sampleQuery['Person.Postcode'].value.postalCode,
  };
  const ctx: EnvelopeContext = {
    ...CTX,
    messageId: sample.Header.MessageID,
    trackingId: sample.Body.DistributionEnvelope.header['@trackingid'],
    payloadId: sample.Body.DistributionEnvelope.payloads.payload['@id'].replace(/^uuid_/, ''),
    timestampId: sample.Header.Security.Timestamp['@Id'],
  };

  it('has the same elements, namespaces, nesting and order for the same query', () => {
    const { body } = buildRequest('getNHSNumber', query, ctx);
    expect(elementOutline(body)).toEqual(elementOutline(sampleXml));
  });

  it('carries the same header and DE values as the example', () => {
    const built = parse(buildRequest('getNHSNumber', query, ctx).body).Envelope;
    expect(built.Header.Action).toBe(sample.Header.Action);
    expect(built.Header.To).toBe(sample.Header.To);
    expect(built.Header.Security.Timestamp.Created).toBe(sample.Header.Security.Timestamp.Created);
    expect(built.Body.DistributionEnvelope.header).toEqual(sample.Body.DistributionEnvelope.header);
    expect(built.Body.DistributionEnvelope.payloads.payload['@id']).toBe(sample.Body.DistributionEnvelope.payloads.payload['@id']);
  });
});
