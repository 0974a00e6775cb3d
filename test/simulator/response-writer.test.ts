import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SEX_CODES, type PdsPatient } from '../../src/domain/demographics.js';
import { INTERACTIONS, type Interaction } from '../../src/domain/interaction.js';
import { writeFault, writeResponse, type FaultContent, type ResponseContent } from '../../src/simulator/response-writer.js';
import { parseResponse } from '../../src/smsp/parse-response.js';
import { extractElement, validateXml } from '../support/schemas.js';
import { match, responseCodeOf } from '../support/simulator.js';
import { writeFaultWithXmlbuilder2, writeResponseWithXmlbuilder2 } from './xmlbuilder2-response-writer.js';

const IDS = {
  messageId: '11111111-AAAA-4BBB-8CCC-000000000001',
  trackingId: '11111111-AAAA-4BBB-8CCC-000000000002',
  payloadId: '11111111-AAAA-4BBB-8CCC-000000000003',
};

/** Response schemas per interaction (SPEC §5.1), spelled out rather than read from the shared table. */
const SCHEMA: Record<Interaction, string> = {
  verifyNHSNumber: 'Schemas/COMT_MT000013GB01.xsd',
  getNHSNumber: 'Schemas/COMT_MT000014GB01.xsd',
  getPatientDetailsByNHSNumber: 'Schemas/COMT_MT000016GB01.xsd',
  getPatientDetailsBySearch: 'Schemas/COMT_MT000016GB01.xsd',
  getPatientDetails: 'Schemas/COMT_MT000016GB01.xsd',
};
const ROOT: Record<Interaction, string> = {
  verifyNHSNumber: 'verifyNHSNumberResponse-v1-0',
  getNHSNumber: 'getNHSNumberResponse-v1-0',
  getPatientDetailsByNHSNumber: 'getPatientDetailsResponse-v1-0',
  getPatientDetailsBySearch: 'getPatientDetailsResponse-v1-0',
  getPatientDetails: 'getPatientDetailsResponse-v1-0',
};

const PATIENT: PdsPatient = {
  nhsNumber: '9990000018',
  title: 'DR',
  givenNames: ['ZOË', "SIÂN"],
  familyName: "O'BRIEN-SMITH & CO <X>",
  sex: '2',
  dateOfBirth: '19500312',
  dateOfDeath: '2010',
  addresses: [
    { use: 'H', postcode: 'AB1 2CD', lines: ['', '1 HIGH STREET', '', 'TOWN', 'COUNTY'] },
    { use: 'TMP', postcode: 'AB1 3CD', lines: ['2 LOW ROAD'] },
    { use: 'PST', lines: ['A', 'B', 'C', 'D', 'E', 'F'] },
  ],
  telecoms: [
    { use: 'H', value: 'tel:01632960001' },
    { use: 'HP', value: 'mailto:someone@example.org' },
  ],
  gpPractice: { odsCode: 'A81001', name: 'THE SURGERY' },
};

function answer(interaction: Interaction, responseCode: string, extra: Partial<ResponseContent> = {}): string {
  return writeResponse({ interaction, responseCode, nhsNumber: '9990000018', verified: true, patient: PATIENT, ...extra }, IDS);
}

async function expectSchemaValid(body: string, interaction: Interaction): Promise<void> {
  const payload = await validateXml(extractElement(body, ROOT[interaction]), SCHEMA[interaction]);
  expect(payload.errors).toEqual([]);
  const de = await validateXml(extractElement(body, 'DistributionEnvelope'), 'Schemas/distributionEnvelope-v2-0.xsd');
  expect(de.errors).toEqual([]);
}

describe('SMSP responses', () => {
  it.each(INTERACTIONS.map((i) => [i]))('a %s SMSP-0000 answer with every field validates against its COMT schema and the DE schema', async (interaction) => {
    const body = answer(interaction, 'SMSP-0000', { localIdentifier: { root: '2.16.840.1.113883.2.1.3.2.4.18.24', extension: 'L-1' } });
    await expectSchemaValid(body, interaction);
    expect(responseCodeOf(body)).toBe('SMSP-0000');
    expect(body).toContain('<patient classCode="PAT"><id root="2.16.840.1.113883.2.1.4.1" extension="9990000018"/>');
  });

  it('writes the NHS response header and the `uuid_` + id-root payload id (SPEC §2.3, §3.2)', () => {
    const body = answer('getNHSNumber', 'SMSP-0000');
    expect(match(body, /<wsa:MessageID>([^<]+)</)).toBe(IDS.messageId);
    expect(match(body, /<wsa:Action>([^<]+)</)).toBe('urn:nhs-itk:services:201005:getNHSNumber-v1-0Response');
    expect(match(body, /<itk:header service="([^"]+)"/)).toBe('urn:nhs-itk:services:201005:getNHSNumber-v1-0Response');
    expect(match(body, /trackingid="([^"]+)"/)).toBe(IDS.trackingId);
    expect(match(body, /<itk:manifestitem id="([^"]+)"/)).toBe(`uuid_${IDS.payloadId}`);
    expect(match(body, /<itk:payload id="([^"]+)"/)).toBe(`uuid_${IDS.payloadId}`);
    expect(match(body, /<id root="([^"]+)"\/><code/)).toBe(IDS.payloadId);
    expect(body).toContain('profileid="urn:nhs-en:profile:getNHSNumberResponse-v1-0"');
  });

  it('answers verify with validIdentifier and the number, and no local identifier (COMT_MT000013GB01)', () => {
    const body = answer('verifyNHSNumber', 'SMSP-0000', { localIdentifier: { root: '1.2.3', extension: 'L-1' } });
    expect(body).toContain('<code code="VI" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.287"/><value value="true"/>');
    expect(body).not.toContain('L-1');
  });

  it('echoes the local identifier beside the NHS number for getNHSNumber and details', () => {
    for (const interaction of ['getNHSNumber', 'getPatientDetailsBySearch'] as const) {
      const body = answer(interaction, 'SMSP-0000', { localIdentifier: { root: '1.2.826.0.1', extension: 'L-9' } });
      expect(body).toContain('<id root="2.16.840.1.113883.2.1.4.1" extension="9990000018"/><id root="1.2.826.0.1" extension="L-9"/>');
    }
  });

  it('writes the person in schema order: postalCode first, then exactly five street lines with blanks kept', () => {
    const body = answer('getPatientDetails', 'SMSP-0000');
    expect(body).toContain(
      '<addr use="H"><postalCode>AB1 2CD</postalCode><streetAddressLine/><streetAddressLine>1 HIGH STREET</streetAddressLine>' +
        '<streetAddressLine/><streetAddressLine>TOWN</streetAddressLine><streetAddressLine>COUNTY</streetAddressLine></addr>',
    );
    expect(body.match(/<addr use="TMP">.*?<\/addr>/)![0].match(/<streetAddressLine/g)).toHaveLength(5);
    expect(body.match(/<addr use="PST">.*?<\/addr>/)![0]).not.toContain('>F<');
    expect(body).toContain("<name><prefix>DR</prefix><given>ZOË</given><given>SIÂN</given><family>O'BRIEN-SMITH &amp; CO &lt;X&gt;</family></name>");
    expect(body).toContain(
      '<patientPerson classCode="PSN" determinerCode="INSTANCE"><administrativeGenderCode code="2" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.25"/>' +
        '<birthTime value="19500312"/><deceasedTime value="2010"/><gPPractice classCode="SDLOC">',
    );
    expect(body).toContain('<id root="2.16.840.1.113883.2.1.3.2.4.19.2" extension="A81001"/><name>THE SURGERY</name>');
  });

  it('writes a sensitive person without address, contact or GP, as PDS redacts them', async () => {
    const sensitive: PdsPatient = { ...PATIENT, addresses: [], telecoms: [], gpPractice: undefined, sensitive: true };
    const body = answer('getPatientDetailsByNHSNumber', 'SMSP-0000', { patient: sensitive });
    expect(body).not.toContain('<addr');
    expect(body).not.toContain('<telecom');
    expect(body).not.toContain('gPPractice');
    await expectSchemaValid(body, 'getPatientDetailsByNHSNumber');
  });

  it.each(
    INTERACTIONS.flatMap((interaction) =>
      ['SMSP-0001', 'SMSP-0004', 'SMSP-9999', 'DEMOG-0001', 'DEMOG-0007', 'DEMOG-0022', 'DEMOG-0040', 'DEMOG-0042'].map((code) => [interaction, code] as const),
    ),
  )('a %s %s answer carries only id, code and value, as the TKW templates do', (interaction, code) => {
    const body = answer(interaction, code);
    expect(responseCodeOf(body)).toBe(code);
    expect(body).not.toContain('<subject');
    expect(body).not.toContain('<component');
    expect(body).toContain(`<value code="${code}" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.285"/></${ROOT[interaction]}>`);
  });

  it('validates non-success answers against the schema too', async () => {
    for (const interaction of ['verifyNHSNumber', 'getNHSNumber', 'getPatientDetails'] as const) await expectSchemaValid(answer(interaction, 'DEMOG-0001'), interaction);
  });

  it.each(INTERACTIONS.map((i) => [i]))('a %s DEMOG-0017 answer returns the replacement number in subject (our reading of SPEC §11 q.5)', async (interaction) => {
    const body = answer(interaction, 'DEMOG-0017', { nhsNumber: '9990000026' });
    expect(body).toContain('<id root="2.16.840.1.113883.2.1.4.1" extension="9990000026"/>');
    if (interaction === 'verifyNHSNumber') expect(body).toContain('<value value="false"/>');
    await expectSchemaValid(body, interaction);
  });
});

describe('ITK SOAP faults', () => {
  const fault = writeFault(
    { faultCode: 'Server', itkCode: '2100', errorText: 'Processing error, retry', diagnosticText: 'simulated fault fault2100', errorId: IDS.trackingId },
    IDS.messageId,
  );

  it('are shaped like the TKW fault templates, with the SOAP fault action (SPEC §6.3)', () => {
    expect(fault).toContain('<wsa:Action>http://www.w3.org/2005/08/addressing/soap/fault</wsa:Action>');
    expect(fault).toContain('<soap:Fault><faultcode>soap:Server</faultcode><faultstring>A Server related error has occurred, see detail element for further information</faultstring><detail>');
    expect(fault).toContain('<itk:ErrorCode codeSystem="2.16.840.1.113883.2.1.3.2.4.17.268">2100</itk:ErrorCode>');
    expect(match(fault, /<itk:ErrorID>([^<]+)</)).toBe(IDS.trackingId);
  });

  it('carry a ToolkitErrorInfo valid against the ITK message types schema', async () => {
    const result = await validateXml(extractElement(fault, 'ToolkitErrorInfo'), 'Schemas/ITKMessageTypes-2010-05.xsd');
    expect(result.errors).toEqual([]);
  });
});

describe('the string writer against xmlbuilder2', () => {
  /** Any text, seeded with what trips XML writers: entity-like runs, markup, quotes, CDATA ends. */
  const XML_TRAPS = ['&', '&amp;', '&lt;', '&copy;', '&#65;', '&#x41;', '<', '>', '"', "'", ']]>', ' ', ''];
  const text = fc
    .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom(...XML_TRAPS)), { maxLength: 6 })
    .map((pieces) => pieces.join(''));
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const patient: fc.Arbitrary<PdsPatient> = fc.record({
    nhsNumber: text,
    title: optional(text),
    givenNames: fc.array(text, { maxLength: 3 }),
    familyName: optional(text),
    sex: optional(fc.constantFrom(...SEX_CODES)),
    dateOfBirth: optional(text),
    dateOfDeath: optional(text),
    addresses: fc.array(fc.record({ use: optional(text), postcode: optional(text), lines: fc.array(text, { maxLength: 6 }) }), { maxLength: 4 }),
    telecoms: fc.array(fc.record({ use: optional(text), value: text }), { maxLength: 3 }),
    gpPractice: optional(fc.record({ odsCode: text, name: optional(text) })),
  });
  const content: fc.Arbitrary<ResponseContent> = fc.record({
    interaction: fc.constantFrom(...INTERACTIONS),
    responseCode: fc.oneof(fc.constantFrom('SMSP-0000', 'SMSP-0003', 'DEMOG-0017', 'DEMOG-0001', 'SMSP-0001'), text),
    nhsNumber: optional(text),
    verified: optional(fc.boolean()),
    patient: optional(patient),
    localIdentifier: optional(fc.record({ root: text, extension: text })),
  });
  const ids = fc.record({ messageId: text, trackingId: text, payloadId: text });

  test.prop([content, ids], { numRuns: 300 })('writes exactly the bytes xmlbuilder2 writes for any content and ids', (response, responseIds) => {
    expect(writeResponse(response, responseIds)).toBe(writeResponseWithXmlbuilder2(response, responseIds));
  });

  const fault: fc.Arbitrary<FaultContent> = fc.record({
    faultCode: fc.constantFrom('Client', 'Server', 'VersionMismatch'),
    itkCode: text,
    errorText: text,
    diagnosticText: optional(text),
    errorId: text,
  });

  test.prop([fault, text], { numRuns: 200 })('writes exactly the fault bytes xmlbuilder2 writes', (content, messageId) => {
    expect(writeFault(content, messageId)).toBe(writeFaultWithXmlbuilder2(content, messageId));
  });

  it('escapes entity-like text in every field, so the client reads back exactly what the directory holds', () => {
    const tricky = 'A &amp; B &#65; <C> "D" ]]>';
    const body = answer('getPatientDetailsBySearch', 'SMSP-0000', {
      patient: { ...PATIENT, familyName: tricky, givenNames: [tricky], addresses: [{ use: 'H', postcode: tricky, lines: [tricky] }], telecoms: [{ use: 'H', value: tricky }] },
      localIdentifier: { root: '1.2.826.0.1', extension: tricky },
    });
    expect(body).not.toContain(']]>');
    const parsed = parseResponse(body);
    expect(parsed).toMatchObject({
      localId: tricky,
      patient: { familyName: tricky, givenNames: [tricky], addresses: [{ postcode: tricky, lines: [tricky, '', '', '', ''] }], telecoms: [{ value: tricky }] },
    });
  });
});
