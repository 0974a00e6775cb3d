import { describe, expect, it } from 'vitest';
import type { PdsPatient } from '../../src/domain/demographics.js';
import { SmspResponseFormatError } from '../../src/smsp/errors.js';
import { isInteraction } from '../../src/domain/interaction.js';
import { INTERACTION_SPECS, type Interaction } from '../../src/smsp/interactions.js';
import { parseResponse } from '../../src/smsp/parse-response.js';
import type { ParsedFault, ParsedPayloadResponse, ParsedResponse } from '../../src/smsp/types.js';
import { writeResponse } from '../../src/simulator/response-writer.js';
import { tamper } from '../support/hostile-answers.js';
import { listSamples, readSample } from '../support/samples.js';

function parseSample(name: string): ParsedResponse {
  return parseResponse(readSample(name));
}

function asPayload(parsed: ParsedResponse): ParsedPayloadResponse {
  if (parsed.kind !== 'response') throw new Error(`expected a response payload, got a ${parsed.kind}`);
  return parsed;
}

function asFault(parsed: ParsedResponse): ParsedFault {
  if (parsed.kind !== 'fault') throw new Error(`expected a fault, got a ${parsed.kind}`);
  return parsed;
}

function expectFormatError(body: string): SmspResponseFormatError {
  try {
    parseResponse(body);
  } catch (err) {
    expect(err).toBeInstanceOf(SmspResponseFormatError);
    return err as SmspResponseFormatError;
  }
  throw new Error('expected parseResponse to throw SmspResponseFormatError');
}

/** A bare getPatientDetailsResponse payload around the given patient XML (synthetic test range). */
function detailsPayload(patientXml: string, code = 'SMSP-0000'): string {
  return `<getPatientDetailsResponse-v1-0 xmlns="urn:hl7-org:v3" classCode="OBS" moodCode="EVN">
  <id root="0D26BF4E-53FB-11E6-9B40-6C3BE5A63FA4"/>
  <code code="getPatientDetailsResponse-v1-0" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.284"/>
  <value code="${code}" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.285"/>
  <subject typeCode="SBJ"><patient classCode="PAT">
    <id root="2.16.840.1.113883.2.1.4.1" extension="9990000018"/>
    ${patientXml}
  </patient></subject>
</getPatientDetailsResponse-v1-0>`;
}

const CAPELFIELD = { odsCode: 'H81109', name: 'CAPELFIELD SURGERY' };

describe('TKW simulator response templates (one per operation and response code)', () => {
  const TEMPLATE = /^sample-tkw-ITK_SMS_PDS-(\w+)Response_((?:SMSP|DEMOG)-\d{4})(-ex\d)?\.xml$/;
  const templates = listSamples(TEMPLATE);

  it('finds the 76 code templates (14 codes × 5 operations, plus 6 captured details examples)', () => {
    expect(templates).toHaveLength(76);
    // The other 5 TKW response files are the hand-made defaults, tested below.
    expect(listSamples(/^sample-tkw-ITK_SMS_PDS-/)).toHaveLength(81);
  });

  it.each(templates)('%s parses to the response code, payload root and service its name gives', (name) => {
    const [, operation = '', code] = TEMPLATE.exec(name) ?? [];
    expect(isInteraction(operation)).toBe(true);
    const spec = INTERACTION_SPECS[operation as Interaction];
    const parsed = asPayload(parseSample(name));
    expect(parsed.responseCode).toBe(code);
    expect(parsed.payloadRoot).toBe(spec.responseRoot);
    expect(parsed.service).toBe(spec.responseService);
    // The 14 verify templates hold a literal placeholder trackingid; they still parse.
    expect(parsed.trackingId).toMatch(operation === 'verifyNHSNumber' ? /^__INTERNAL_TRACKING_ID__$/ : /^[0-9A-F-]{36}$/);
    if (code !== 'SMSP-0000') {
      // Non-success templates carry only id, code and value (SPEC §5.2).
      expect(parsed).not.toHaveProperty('nhsNumber');
      expect(parsed).not.toHaveProperty('patient');
      expect(parsed).not.toHaveProperty('verified');
    }
  });

  it('reads verifyNHSNumber SMSP-0000 as a verified NHS number with no details', () => {
    const parsed = asPayload(parseSample('sample-tkw-ITK_SMS_PDS-verifyNHSNumberResponse_SMSP-0000.xml'));
    expect(parsed).toMatchObject({ verified: true, nhsNumber: '9449310467' });
    expect(parsed).not.toHaveProperty('patient');
    expect(parsed).not.toHaveProperty('localId');
  });

  it('reads getNHSNumber SMSP-0000 as the NHS number alone', () => {
    const parsed = asPayload(parseSample('sample-tkw-ITK_SMS_PDS-getNHSNumberResponse_SMSP-0000.xml'));
    expect(parsed.nhsNumber).toBe('9449310394');
    expect(parsed).not.toHaveProperty('patient');
    expect(parsed).not.toHaveProperty('verified');
  });

  it('reads getPatientDetailsByNHSNumber SMSP-0000 into a full patient, blank address lines kept', () => {
    const parsed = asPayload(parseSample('sample-tkw-ITK_SMS_PDS-getPatientDetailsByNHSNumberResponse_SMSP-0000.xml'));
    expect(parsed.patient).toStrictEqual<PdsPatient>({
      nhsNumber: '9449310580',
      givenNames: ['LENARD'],
      familyName: 'EASEMAN',
      sex: '0',
      dateOfBirth: '19960530',
      addresses: [{ use: 'H', postcode: 'KT10 9JQ', lines: ['LA SELVA', 'PORTSMOUTH ROAD', '', 'ESHER', ''] }],
      telecoms: [
        { use: 'H', value: 'tel:01133973555' },
        { use: 'HP', value: 'tel:0123456555' },
      ],
      gpPractice: CAPELFIELD,
      sensitive: false,
    });
  });

  it('reads getPatientDetailsBySearch SMSP-0000 with telephone and email telecoms in order', () => {
    const parsed = asPayload(parseSample('sample-tkw-ITK_SMS_PDS-getPatientDetailsBySearchResponse_SMSP-0000.xml'));
    expect(parsed.patient).toStrictEqual<PdsPatient>({
      nhsNumber: '9449310602',
      givenNames: ['NELLY'],
      familyName: 'STAMBUKDELIFSCHITZ',
      sex: '2',
      dateOfBirth: '20110323',
      addresses: [{ use: 'H', postcode: 'KT7 0BE', lines: ['', '4 HAYWARD ROAD', '', 'THAMES DITTON', 'SURREY'] }],
      telecoms: [
        { use: 'H', value: 'tel:01132974444' },
        { use: 'HP', value: 'tel:01234567444' },
        { use: 'HP', value: 'tel:01234567899' },
        { use: 'HP', value: 'mailto:jim@blaggs.com' },
      ],
      gpPractice: CAPELFIELD,
      sensitive: false,
    });
  });

  it('reads getPatientDetails SMSP-0000 with a date of death and no telecoms or GP practice', () => {
    const parsed = asPayload(parseSample('sample-tkw-ITK_SMS_PDS-getPatientDetailsResponse_SMSP-0000.xml'));
    expect(parsed.patient).toStrictEqual<PdsPatient>({
      nhsNumber: '9449303371',
      givenNames: ['NEWTON'],
      familyName: 'XXXXX-DODWITHTIME',
      sex: '0',
      dateOfBirth: '20110721',
      dateOfDeath: '20050612',
      addresses: [{ use: 'H', postcode: 'SM2 7HJ', lines: ['', '102 NORTHEY AVENUE', '', 'SUTTON', 'SURREY'] }],
      telecoms: [],
      sensitive: false,
    });
  });

  const captured: Record<string, PdsPatient> = {
    ex1: {
      nhsNumber: '9449310033',
      givenNames: ['DERRICK'],
      familyName: 'BEIRNE',
      sex: '1',
      dateOfBirth: '19700101',
      dateOfDeath: '20100101',
      addresses: [
        { use: 'PST', postcode: 'KT18 5TA', lines: ['', '2 ELLINGTON WAY', '', 'EPSOM', 'SURREY'] },
        { use: 'TMP', postcode: 'KT19 9BP', lines: ['', '32 NIMBUS ROAD', '', 'EPSOM', 'SURREY'] },
        { use: 'H', postcode: 'KT17 2DS', lines: ['1 ERNEST COTTAGES', 'KINGSTON ROAD', '', 'EPSOM', 'SURREY'] },
      ],
      telecoms: [],
      sensitive: false,
    },
    ex2: {
      nhsNumber: '9449310106',
      givenNames: ['CINCO'],
      familyName: 'DEMAYO',
      sex: '1',
      dateOfBirth: '19740505',
      addresses: [{ use: 'H', postcode: 'KT17 3EZ', lines: ['', '17 BANSTEAD ROAD', '', 'EPSOM', 'SURREY'] }],
      telecoms: [],
      gpPractice: CAPELFIELD,
      sensitive: false,
    },
    ex3: {
      nhsNumber: '9449310564',
      givenNames: ['KYLER'],
      familyName: 'KHICHEN-HOCHE',
      sex: '2',
      dateOfBirth: '19090213',
      // A partial date of death (year only) is kept as sent.
      dateOfDeath: '2010',
      addresses: [{ use: 'H', postcode: 'KT22 8JZ', lines: ['WELLBOTTOM COTTAGE', 'THE DOWNS', '', 'LEATHERHEAD', ''] }],
      telecoms: [],
      sensitive: false,
    },
    ex4: {
      nhsNumber: '9449310637',
      givenNames: ['ZACK'],
      familyName: 'COPPER',
      sex: '1',
      dateOfBirth: '20090425',
      dateOfDeath: '20101225',
      addresses: [{ use: 'H', postcode: 'KT22 9QE', lines: ['', '1 HAZELWAY CLOSE', 'FETCHAM', 'LEATHERHEAD', ''] }],
      telecoms: [],
      sensitive: false,
    },
    ex5: {
      nhsNumber: '9449310688',
      givenNames: ['XUI LI'],
      familyName: 'ZHOU ZHU',
      sex: '2',
      dateOfBirth: '19770602',
      dateOfDeath: '20110101',
      addresses: [{ use: 'TMP', postcode: 'KT22 7QN', lines: ['', '10 WOODBRIDGE AVENUE', '', 'LEATHERHEAD', 'SURREY'] }],
      telecoms: [],
      sensitive: false,
    },
    ex6: {
      nhsNumber: '9449310696',
      givenNames: ['KENNEDY'],
      familyName: 'JOHNCOCKS',
      sex: '1',
      dateOfBirth: '19230408',
      addresses: [{ use: 'TMP', postcode: 'KT17 4AT', lines: ['', '11 DIRDENE GARDENS', '', 'EPSOM', ''] }],
      telecoms: [],
      gpPractice: CAPELFIELD,
      sensitive: false,
    },
  };

  it.each(Object.entries(captured))('reads captured getPatientDetails example %s field by field', (example, patient) => {
    const parsed = asPayload(parseSample(`sample-tkw-ITK_SMS_PDS-getPatientDetailsResponse_SMSP-0000-${example}.xml`));
    expect(parsed.responseCode).toBe('SMSP-0000');
    expect(parsed.nhsNumber).toBe(patient.nhsNumber);
    expect(parsed.patient).toStrictEqual(patient);
  });
});

describe('TKW default templates (hand-made John Smith, 9999345201)', () => {
  const johnSmith: PdsPatient = {
    nhsNumber: '9999345201',
    givenNames: ['John'],
    familyName: 'Smith',
    sex: '1',
    dateOfBirth: '19890101',
    addresses: [{ use: 'H', postcode: 'LS17 7TR', lines: ['41 Manor Grove', 'Little Manorton', 'Leeds', '', ''] }],
    telecoms: [],
    gpPractice: { odsCode: 'YT4', name: 'Grove GP Surgery' },
    sensitive: false,
  };

  it.each([
    ['sample-tkw-ITK_SMS_PDS-getPatientDetailsCOMT_MT000016GB01.xml', 'getPatientDetails'],
    ['sample-tkw-ITK_SMS_PDS-getPatientDetailsByNHSNumber_QUPA_MT000003GB01.xml', 'getPatientDetailsByNHSNumber'],
    ['sample-tkw-ITK_SMS_PDS-getPatientDetailsSearch_QUPA_MT000003GB01.xml', 'getPatientDetailsBySearch'],
  ] as const)('%s is a details response (despite a QUPA name) for %s', (name, interaction) => {
    const parsed = asPayload(parseSample(name));
    expect(parsed).toMatchObject({
      responseCode: 'SMSP-0000',
      payloadRoot: 'getPatientDetailsResponse-v1-0',
      service: INTERACTION_SPECS[interaction].responseService,
      nhsNumber: '9999345201',
    });
    expect(parsed.patient).toStrictEqual(johnSmith);
  });

  it('reads the getNHSNumber default: the number as sent, though it fails Modulus 11', () => {
    const parsed = asPayload(parseSample('sample-tkw-ITK_SMS_PDS-getNHSNumber_COMT_MT000014GB01.xml'));
    expect(parsed).toMatchObject({ responseCode: 'SMSP-0000', payloadRoot: 'getNHSNumberResponse-v1-0', nhsNumber: '9999345201' });
    expect(parsed).not.toHaveProperty('patient');
  });

  it('reads the verifyNHSNumber default as verified', () => {
    const parsed = asPayload(parseSample('sample-tkw-ITK_SMS_PDS-verifyNHSNumber_COMT_MT000013GB01.xml'));
    expect(parsed).toMatchObject({ responseCode: 'SMSP-0000', verified: true, nhsNumber: '9999345201' });
  });
});

describe('captured provider responses in full SOAP envelopes', () => {
  it('reads the NHS OpenTest getNHSNumber response with its SOAP header ids', () => {
    const parsed = parseSample('sample-nhsconnect-spine-smsp-getNHSNumber-response-SMSP-0000-opentest-captured.xml');
    expect(parsed).toStrictEqual<ParsedPayloadResponse>({
      kind: 'response',
      responseCode: 'SMSP-0000',
      payloadRoot: 'getNHSNumberResponse-v1-0',
      service: 'urn:nhs-itk:services:201005:getNHSNumber-v1-0Response',
      messageId: '0D355CFC-53FB-11E6-9B40-6C3BE5A63FA4',
      trackingId: '0D355F90-53FB-11E6-9B40-6C3BE5A63FA4',
      nhsNumber: '9473480032',
    });
  });

  it('reads the Inhealthcare verifyNHSNumber response, ignoring its empty wsa:To', () => {
    const parsed = parseSample('sample-inhealthcare-smsp-verifyNHSNumber-response-SMSP-0000-soap.xml');
    expect(parsed).toStrictEqual<ParsedPayloadResponse>({
      kind: 'response',
      responseCode: 'SMSP-0000',
      payloadRoot: 'verifyNHSNumberResponse-v1-0',
      service: 'urn:nhs-itk:services:201005:verifyNHSNumber-v1-0Response',
      messageId: '4BEEA412-5FFA-48CC-A658-1236E0BC61C9',
      trackingId: '0F8228B0-E251-40E2-82B5-88DF393FB0C5',
      verified: true,
      nhsNumber: '9449310092',
    });
  });
});

describe('Open Inhealthcare fixtures (bare HL7 payloads and DistributionEnvelopes)', () => {
  it('reads the NHS number and the echoed local identifier by @root', () => {
    const parsed = parseSample('sample-openinhealthcare-fixture-HappyDayGNNResponse.xml');
    expect(parsed).toStrictEqual<ParsedPayloadResponse>({
      kind: 'response',
      responseCode: 'SMSP-0000',
      payloadRoot: 'getNHSNumberResponse-v1-0',
      nhsNumber: '9999345201',
      localId: 'RXX:00001',
    });
  });

  it.each([
    ['sample-openinhealthcare-fixture-NotFoundGNNResponse.xml', 'getNHSNumberResponse-v1-0'],
    ['sample-openinhealthcare-fixture-NotFoundGPDResponse.xml', 'getPatientDetailsResponse-v1-0'],
  ])('reads %s as DEMOG-0001 with nothing else', (name, payloadRoot) => {
    expect(parseSample(name)).toStrictEqual({ kind: 'response', responseCode: 'DEMOG-0001', payloadRoot });
  });

  it('reads the details fixture into a patient', () => {
    const parsed = asPayload(parseSample('sample-openinhealthcare-fixture-HappyDayGPDResponse.xml'));
    expect(parsed.patient).toMatchObject({
      nhsNumber: '9449310602',
      givenNames: ['John'],
      familyName: 'Smith',
      sex: '1',
      dateOfBirth: '19890101',
      gpPractice: { odsCode: 'YT4', name: 'Grove GP Surgery' },
      sensitive: false,
    });
  });

  it('reads the verify fixtures, including DEMOG-0040 that still says true', () => {
    expect(parseSample('sample-openinhealthcare-fixture-HappyDayVNNResponse.xml')).toMatchObject({
      responseCode: 'SMSP-0000',
      verified: true,
      nhsNumber: '9449310602',
    });
    expect(parseSample('sample-openinhealthcare-fixture-NotVerifiedVNNResponse.xml')).toMatchObject({
      responseCode: 'DEMOG-0040',
      verified: true,
      nhsNumber: '9449310602',
    });
  });

  it.each(listSamples(/^sample-openinhealthcare-itk-fixture-HappyDayDistEnv/))(
    '%s: a bare DistributionEnvelope with a getNHSNumber response',
    (name) => {
      expect(parseSample(name)).toStrictEqual<ParsedPayloadResponse>({
        kind: 'response',
        responseCode: 'SMSP-0000',
        payloadRoot: 'getNHSNumberResponse-v1-0',
        service: 'urn:nhs-itk:services:201005:getNHSNumber-v1-0Response',
        trackingId: '2D37D9CA-5223-41C7-A159-F33D5A914EB5',
        nhsNumber: '9999345201',
      });
    },
  );

  it.each(listSamples(/^sample-openinhealthcare-itk-fixture-HappyDaySoap/))(
    'refuses %s: a SOAP envelope whose body is empty is neither a fault nor a response',
    (name) => {
      expect(expectFormatError(readSample(name)).message).toMatch(/neither a fault nor a DistributionEnvelope/);
    },
  );
});

describe('SOAP faults', () => {
  const faults: Record<string, { faultCode: string; itkErrorCode: string }> = {
    'Client-1000': { faultCode: 'Client', itkErrorCode: '1000' },
    'Client-2200': { faultCode: 'Client', itkErrorCode: '2200' },
    'Client-3000': { faultCode: 'Client', itkErrorCode: '3000' },
    'Server-2100': { faultCode: 'Server', itkErrorCode: '2100' },
    'Server-2200': { faultCode: 'Server', itkErrorCode: '2200' },
    'Server-3000': { faultCode: 'Server', itkErrorCode: '3000' },
    'mustUnderstand-0000': { faultCode: 'MustUnderstand', itkErrorCode: '1000' },
    'versionMismatch-0000': { faultCode: 'VersionMismatch', itkErrorCode: '1000' },
    // The generic harness template: faultcode without prefix, ErrorCode still a placeholder.
    tk_test_error: { faultCode: 'Client', itkErrorCode: '__ERRORCODE__' },
  };

  it('covers every TKW fault template', () => {
    expect(listSamples(/^sample-tkw-itk-soapfault-/).map((n) => n.replace(/^sample-tkw-itk-soapfault-|\.xml$/g, ''))).toEqual(
      Object.keys(faults).sort(),
    );
  });

  it.each(Object.entries(faults))('reads fault template %s: fault code without prefix and ITK ErrorCode', (name, expected) => {
    const fault = asFault(parseSample(`sample-tkw-itk-soapfault-${name}.xml`));
    expect(fault).toMatchObject(expected);
    expect(fault.errorId).toBe('__ERRORID__');
    expect(fault.faultString).not.toBe('');
    expect(fault.itkErrorText).toBeDefined();
  });

  it('reads a fault string that carries xml:lang, and the ITK texts', () => {
    const fault = asFault(parseSample('sample-tkw-itk-soapfault-versionMismatch-0000.xml'));
    expect(fault).toStrictEqual<ParsedFault>({
      kind: 'fault',
      faultCode: 'VersionMismatch',
      faultString: 'Improper SOAP Version referenced',
      itkErrorCode: '1000',
      itkErrorText: 'Version Error, namespace must be a proper SOAP namespace.',
      itkDiagnosticText: 'SOAP Version Mismatch',
      errorId: '__ERRORID__',
    });
    expect(asFault(parseSample('sample-tkw-itk-soapfault-mustUnderstand-0000.xml')).faultString).toBe(
      'SOAP MustUnderstand error thrown.',
    );
  });

  const fault2100 = readSample('sample-tkw-itk-soapfault-Server-2100.xml');

  it('finds a fault inside a full SOAP envelope (as an HTTP 200 or 500 body would carry it)', () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soap:Header><wsa:Action>http://www.w3.org/2005/08/addressing/soap/fault</wsa:Action></soap:Header>
  <soap:Body>${fault2100}</soap:Body>
</soap:Envelope>`;
    expect(parseResponse(body)).toMatchObject({ kind: 'fault', faultCode: 'Server', itkErrorCode: '2100' });
  });

  it('reports a fault\'s own wsa:MessageID and RelatesTo, for the audit trail', () => {
    const body = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soap:Header><wsa:MessageID>F0000000-0000-4000-8000-000000000001</wsa:MessageID><wsa:RelatesTo>F0000000-0000-4000-8000-000000000002</wsa:RelatesTo></soap:Header>
  <soap:Body>${fault2100}</soap:Body>
</soap:Envelope>`;
    expect(parseResponse(body)).toMatchObject({ kind: 'fault', messageId: 'F0000000-0000-4000-8000-000000000001', relatesTo: ['F0000000-0000-4000-8000-000000000002'] });
  });

  it('reports the fault first when the body also holds a DistributionEnvelope', () => {
    const de = readSample('sample-tkw-ITK_SMS_PDS-getNHSNumberResponse_SMSP-0000.xml');
    const body = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${de}${fault2100}</soap:Body></soap:Envelope>`;
    expect(parseResponse(body)).toMatchObject({ kind: 'fault', itkErrorCode: '2100' });
  });

  it('reads a fault with no ToolkitErrorInfo detail', () => {
    const body = `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>Internal error</faultstring></SOAP-ENV:Fault>
</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
    expect(parseResponse(body)).toStrictEqual<ParsedFault>({ kind: 'fault', faultCode: 'Server', faultString: 'Internal error' });
  });
});

describe('namespace prefixes', () => {
  /** Renames one prefix on every element and in its declaration. */
  function renamePrefix(xml: string, from: string, to: string): string {
    return xml.replace(new RegExp(`<(/?)${from}:`, 'g'), `<$1${to}:`).replace(new RegExp(`xmlns:${from}=`, 'g'), `xmlns:${to}=`);
  }

  it('parses SOAP-ENV / toolkit / a prefixes exactly as soap / itk / wsa', () => {
    const original = readSample('sample-inhealthcare-smsp-verifyNHSNumber-response-SMSP-0000-soap.xml');
    const renamed = renamePrefix(renamePrefix(renamePrefix(original, 'soap', 'SOAP-ENV'), 'itk', 'toolkit'), 'wsa', 'a');
    expect(renamed).toContain('<SOAP-ENV:Body>');
    expect(renamed).toContain('<toolkit:DistributionEnvelope');
    expect(parseResponse(renamed)).toStrictEqual(parseResponse(original));
  });

  it('parses a prefixed HL7 payload (hl7:) exactly as one in the default namespace', () => {
    const original = readSample('sample-openinhealthcare-fixture-HappyDayGPDResponse.xml');
    const prefixed = original
      .replace(/<(\/?)([A-Za-z])/g, '<$1hl7:$2')
      .replace('xmlns="urn:hl7-org:v3"', 'xmlns:hl7="urn:hl7-org:v3"');
    expect(prefixed).toContain('<hl7:streetAddressLine/>');
    expect(parseResponse(prefixed)).toStrictEqual(parseResponse(original));
  });

  it('parses a fault with S: and tk: prefixes exactly as with soap: and toolkit:', () => {
    const original = readSample('sample-tkw-itk-soapfault-Client-3000.xml');
    const renamed = renamePrefix(renamePrefix(original, 'soap', 'S'), 'toolkit', 'tk').replace('>soap:Client<', '>S:Client<');
    expect(parseResponse(renamed)).toStrictEqual(parseResponse(original));
  });
});

describe('demographic details', () => {
  it('keeps an empty element as a known blank and leaves a missing one out', () => {
    const parsed = asPayload(
      parseResponse(
        detailsPayload(`<name><given>ANNA</given><family/></name>
          <addr use="H"><postalCode/><streetAddressLine>1 TEST STREET</streetAddressLine><streetAddressLine/></addr>
          <addr use="PST"><streetAddressLine>PO BOX 1</streetAddressLine></addr>
          <patientPerson><administrativeGenderCode code="2"/><birthTime value="1970"/></patientPerson>`),
      ),
    );
    const patient = parsed.patient!;
    expect(patient.familyName).toBe('');
    expect(patient).not.toHaveProperty('title');
    expect(patient).not.toHaveProperty('dateOfDeath');
    expect(patient).not.toHaveProperty('localId');
    expect(patient.addresses).toStrictEqual([
      { use: 'H', postcode: '', lines: ['1 TEST STREET', ''] },
      { use: 'PST', lines: ['PO BOX 1'] },
    ]);
    // A partial date of birth stays as sent.
    expect(patient.dateOfBirth).toBe('1970');
  });

  it('reads title, two given names in order, and decodes entities in names', () => {
    const parsed = asPayload(
      parseResponse(
        detailsPayload(`<name><prefix>MRS</prefix><given>ANNA</given><given>MARIA</given><family>O&apos;BRIEN &amp; SMITH</family></name>
          <addr use="H"><postalCode>LS1 4AP</postalCode><streetAddressLine>1 TEST STREET</streetAddressLine></addr>`),
      ),
    );
    expect(parsed.patient).toMatchObject({ title: 'MRS', givenNames: ['ANNA', 'MARIA'], familyName: "O'BRIEN & SMITH" });
  });

  it('decodes decimal and hexadecimal character references in names', () => {
    const parsed = asPayload(
      parseResponse(detailsPayload(`<name><given>Zo&#235;</given><family>J&#xF3;zsef-&#39;O</family></name>`)),
    );
    expect(parsed.patient).toMatchObject({ givenNames: ['Zoë'], familyName: "József-'O" });
  });

  it('leaves HTML-only named entities and escaped references as text: XML defines neither', () => {
    const parsed = asPayload(parseResponse(detailsPayload(`<name><given>A&amp;#235;</given><family>B&nbsp;&pound;</family></name>`)));
    expect(parsed.patient).toMatchObject({ givenNames: ['A&#235;'], familyName: 'B&nbsp;&pound;' });
  });

  it('keeps leading zeros in identifiers, codes and text', () => {
    const parsed = asPayload(
      parseResponse(
        detailsPayload(`<id root="2.16.840.1.113883.2.1.3.2.4.18.24" extension="000042"/>
          <name><given>0123</given></name>
          <patientPerson><birthTime value="00010101"/>
            <gPPractice><locationOrganization><id root="2.16.840.1.113883.2.1.3.2.4.19.2" extension="01234"/><name>007</name></locationOrganization></gPPractice>
          </patientPerson>`),
      ),
    );
    expect(parsed.localId).toBe('000042');
    expect(parsed.patient).toMatchObject({
      localId: '000042',
      givenNames: ['0123'],
      dateOfBirth: '00010101',
      gpPractice: { odsCode: '01234', name: '007' },
    });
  });

  it('tells the NHS number from the local identifier by @root, whatever their order', () => {
    const body = `<getNHSNumberResponse-v1-0 xmlns="urn:hl7-org:v3">
      <value code="SMSP-0000"/>
      <subject><patient>
        <id root="2.16.840.1.113883.2.1.3.2.4.18.24" extension="LOCAL-7"/>
        <id root="2.16.840.1.113883.2.1.4.1" extension="9990000026"/>
      </patient></subject>
    </getNHSNumberResponse-v1-0>`;
    expect(parseResponse(body)).toMatchObject({ nhsNumber: '9990000026', localId: 'LOCAL-7' });
  });

  it('flags as sensitive a details response with no address, telecom or GP practice', () => {
    const parsed = asPayload(
      parseResponse(detailsPayload(`<name><given>ANNA</given><family>TEST</family></name>
        <patientPerson><administrativeGenderCode code="2"/><birthTime value="19700101"/></patientPerson>`)),
    );
    expect(parsed.patient).toMatchObject({ addresses: [], telecoms: [], sensitive: true });
    expect(parsed.patient).not.toHaveProperty('gpPractice');
  });

  it('does not flag as sensitive a record that has a GP practice but no address or telecom', () => {
    const parsed = asPayload(
      parseResponse(detailsPayload(`<patientPerson><gPPractice><locationOrganization><id extension="Y00001"/></locationOrganization></gPPractice></patientPerson>`)),
    );
    expect(parsed.patient).toMatchObject({ sensitive: false, gpPractice: { odsCode: 'Y00001' } });
  });

  it('reads details returned with a non-success code (DEMOG-0017 replacement) as PDS gave them', () => {
    const parsed = asPayload(parseResponse(detailsPayload('<name><family>TEST</family></name>', 'DEMOG-0017')));
    expect(parsed).toMatchObject({ responseCode: 'DEMOG-0017', nhsNumber: '9990000018', patient: { familyName: 'TEST' } });
  });

  it('reads validIdentifier false', () => {
    const body = readSample('sample-openinhealthcare-fixture-HappyDayVNNResponse.xml').replace('value="true"', 'value="false"');
    expect(parseResponse(body)).toMatchObject({ responseCode: 'SMSP-0000', verified: false });
  });

  it('refuses a validIdentifier that is not a boolean, without quoting it', () => {
    const body = readSample('sample-openinhealthcare-fixture-HappyDayVNNResponse.xml').replace('value="true"', 'value="maybe"');
    const err = expectFormatError(body);
    expect(err.message).toMatch(/validIdentifier/);
    expect(err.message).not.toContain('maybe');
  });

  it('refuses a sex code outside the HL7 Sex vocabulary, without quoting it', () => {
    const err = expectFormatError(detailsPayload('<patientPerson><administrativeGenderCode code="X7"/></patientPerson>'));
    expect(err.message).toMatch(/administrativeGenderCode/);
    expect(err.message).not.toContain('X7');
  });
});

describe('bodies that are not SMSP responses', () => {
  it.each([
    ['XXE external entity', '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>'],
    [
      'billion laughs',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
    ],
    [
      'a harmless DOCTYPE on a real response',
      `<!DOCTYPE Envelope>${readSample('sample-inhealthcare-smsp-verifyNHSNumber-response-SMSP-0000-soap.xml')}`,
    ],
    ['a lower-case doctype', '<!doctype html><html><body>hi</body></html>'],
  ])('refuses a DOCTYPE before parsing: %s', (_label, body) => {
    expect(expectFormatError(body).message).toMatch(/DOCTYPE/);
  });

  it.each([
    ['plain text', 'Service Unavailable'],
    ['an empty body', ''],
    ['JSON', '{"error":"busy"}'],
    ['an HTML error page', '<html><body><h1>502 Bad Gateway</h1></body></html>'],
    ['a truncated response', readSample('sample-tkw-ITK_SMS_PDS-getNHSNumberResponse_SMSP-0000.xml').slice(0, 700)],
    ['a payload without value/@code', '<getNHSNumberResponse-v1-0 xmlns="urn:hl7-org:v3"><id root="X"/></getNHSNumberResponse-v1-0>'],
    ['an SMSP request', readSample('sample-nhsconnect-spine-smsp-getNHSNumber-request-opentest-example.xml')],
    [
      'a DistributionEnvelope with no payload',
      '<itk:DistributionEnvelope xmlns:itk="urn:nhs-itk:ns:201005"><itk:header service="s" trackingid="t"/><itk:payloads count="0"/></itk:DistributionEnvelope>',
    ],
  ])('refuses %s', (_label, body) => {
    expectFormatError(body);
  });

  it('does not quote document text in a well-formedness error', () => {
    const truncated = readSample('sample-tkw-ITK_SMS_PDS-getPatientDetailsBySearchResponse_SMSP-0000.xml').replace(
      '</family>',
      '</famly>',
    );
    const err = expectFormatError(truncated);
    expect(err.message).toMatch(/not well-formed/);
    expect(err.message).not.toMatch(/STAMBUK|famly|family/);
    expect(err.retryable).toBe(false);
    expect(err.reason).toBe('malformed_response');
  });

  it('tolerates a byte-order mark before the document', () => {
    const body = `\uFEFF${readSample('sample-nhsconnect-spine-smsp-getNHSNumber-response-SMSP-0000-opentest-captured.xml')}`;
    expect(parseResponse(body)).toMatchObject({ responseCode: 'SMSP-0000', nhsNumber: '9473480032' });
  });
});

describe('what the answer says about whom and which request (ARCHITECTURE property 8)', () => {
  const ids = { messageId: 'C0FFEE00-0000-4000-8000-000000000001', trackingId: 'C0FFEE00-0000-4000-8000-000000000002', payloadId: 'C0FFEE00-0000-4000-8000-000000000003' };
  const verify = writeResponse({ interaction: 'verifyNHSNumber', responseCode: 'SMSP-0000', nhsNumber: '9990000018', verified: true }, ids);
  const search = writeResponse(
    { interaction: 'getNHSNumber', responseCode: 'SMSP-0000', nhsNumber: '9990000026', localIdentifier: { root: '2.16.840.1.113883.2.1.3.2.4.18.24', extension: 'LOCAL-7' } },
    ids,
  );

  it('reports nothing extra for an honest answer', () => {
    const parsed = asPayload(parseResponse(verify));
    expect(parsed).toStrictEqual<ParsedPayloadResponse>({
      kind: 'response',
      responseCode: 'SMSP-0000',
      payloadRoot: 'verifyNHSNumberResponse-v1-0',
      service: 'urn:nhs-itk:services:201005:verifyNHSNumber-v1-0Response',
      messageId: ids.messageId,
      trackingId: ids.trackingId,
      verified: true,
      nhsNumber: '9990000018',
    });
  });

  it('reports every wsa:RelatesTo in the SOAP header', () => {
    const body = tamper.relatesTo(tamper.relatesTo(verify, 'uuid:AAAA'), 'BBBB');
    expect(parseResponse(body)).toMatchObject({ relatesTo: ['BBBB', 'uuid:AAAA'] });
  });

  it('reports the RelatesTo of the Open Inhealthcare SOAP header fixture', () => {
    const header = /<soap:Header>[\s\S]*<\/soap:Header>/.exec(readSample('sample-openinhealthcare-itk-fixture-HappyDaySoap.xml'))![0];
    const body = verify.replace(/<soap:Header>[\s\S]*<\/soap:Header>/, header).replace('<soap:Envelope ', '<soap:Envelope xmlns:wsse="x" xmlns:wsu="y" ');
    expect(parseResponse(body)).toMatchObject({ messageId: '1E21265D-10C8-11E4-8DA7-6B0452CE1A74', relatesTo: ['1E21265D-10C8-11E4-8DA7-222222222222'] });
  });

  it('reports HL7 acknowledgement messageRef ids', () => {
    expect(parseResponse(tamper.acknowledgement(verify, 'DDDD'))).toMatchObject({ acknowledgedIds: ['DDDD'] });
  });

  it('reports a second, different NHS number instead of silently keeping the first', () => {
    const parsed = asPayload(parseResponse(tamper.extraNhsNumber(search, '9990000034')));
    expect(parsed).toMatchObject({ nhsNumber: '9990000026', otherNhsNumbers: ['9990000034'], localId: 'LOCAL-7' });
  });

  it('reads the same NHS number given twice as one', () => {
    expect(asPayload(parseResponse(tamper.extraNhsNumber(search, '9990000026')))).not.toHaveProperty('otherNhsNumbers');
  });

  it('collects NHS numbers from subject/patient as well as validIdentifier/subject/patient', () => {
    const body = verify.replace('</verifyNHSNumberResponse-v1-0>', '<subject typeCode="SBJ"><patient classCode="PAT"><id root="2.16.840.1.113883.2.1.4.1" extension="9990000042"/></patient></subject></verifyNHSNumberResponse-v1-0>');
    const parsed = asPayload(parseResponse(body));
    expect([parsed.nhsNumber, ...(parsed.otherNhsNumbers ?? [])].sort()).toEqual(['9990000018', '9990000042']);
  });

  it('reports a second, different local identifier', () => {
    const body = search.replace('extension="LOCAL-7"/>', 'extension="LOCAL-7"/><id root="2.16.840.1.113883.2.1.3.2.4.18.24" extension="LOCAL-8"/>');
    expect(parseResponse(body)).toMatchObject({ localId: 'LOCAL-7', otherLocalIds: ['LOCAL-8'] });
  });
});
