import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import type { PatientQuery, PdsPatient } from '../../src/domain/demographics.js';
import type { Interaction } from '../../src/domain/interaction.js';
import type { ReasonCode } from '../../src/domain/reasons.js';
import { REASONS } from '../../src/domain/reasons.js';
import { completeNhsNumber } from '../../src/domain/nhs-number.js';
import { datesContradict, sexesContradict, type AnswerContext } from '../../src/smsp/answer-checks.js';
import { INTERACTION_SPECS } from '../../src/smsp/interactions.js';
import { parseResponse } from '../../src/smsp/parse-response.js';
import { outcomeForResponse } from '../../src/smsp/to-outcome.js';
import type { ParsedPayloadResponse } from '../../src/smsp/types.js';
import { readSample } from '../support/samples.js';

// Synthetic numbers from the never-issued 999 range, with valid check digits; 9999345201 fails (SPEC §9).
const SUPPLIED = '9990000018';
const OTHER = '9990000026';
const BAD_CHECK_DIGIT = '9999345201';
const REQUEST = { messageId: 'A1B2C3D4-0000-4000-8000-00000000000A', payloadId: 'A1B2C3D4-0000-4000-8000-00000000000B' };
const HONEST: AnswerContext = { request: REQUEST, httpStatus: 200, replayed: false };

const byNumber: PatientQuery = { nhsNumber: SUPPLIED, dateOfBirth: '19700101' };
const search: PatientQuery = { familyName: 'TEST', dateOfBirth: '19700101', sex: '2', localId: 'LOCAL-1' };

function person(fields: Partial<PdsPatient> = {}): PdsPatient {
  return { nhsNumber: OTHER, givenNames: [], sex: '2', dateOfBirth: '19700101', addresses: [], telecoms: [], ...fields };
}

function answer(interaction: Interaction, fields: Partial<ParsedPayloadResponse> = {}): ParsedPayloadResponse {
  return {
    kind: 'response',
    responseCode: 'SMSP-0000',
    payloadRoot: INTERACTION_SPECS[interaction].responseRoot,
    nhsNumber: interaction === 'verifyNHSNumber' || interaction === 'getPatientDetailsByNHSNumber' ? SUPPLIED : OTHER,
    ...(interaction === 'verifyNHSNumber' ? { verified: true } : {}),
    ...fields,
  };
}

function expectRefused(interaction: Interaction, query: PatientQuery, parsed: ParsedPayloadResponse, reason: ReasonCode, context = HONEST): void {
  const outcome = outcomeForResponse(interaction, query, parsed, context);
  expect(outcome).toMatchObject({ status: 'error', reason, retryable: false, responseCode: parsed.responseCode });
  expect(outcome).not.toHaveProperty('nhsNumber');
  expect(outcome).not.toHaveProperty('patient');
  expect(outcome.detail).toBeDefined();
  expect(outcome.detail).not.toMatch(/\d{10}|LOCAL|1970/);
}

describe('answers that belong to their request pass unchanged', () => {
  it.each<[Interaction, PatientQuery, string]>([
    ['verifyNHSNumber', byNumber, 'verified'],
    ['getPatientDetailsByNHSNumber', byNumber, 'verified'],
    ['getPatientDetails', byNumber, 'verified'],
    ['getNHSNumber', search, 'matched'],
    ['getPatientDetailsBySearch', search, 'matched'],
    ['getPatientDetails', search, 'matched'],
  ])('%s gives %s', (interaction, query, status) => {
    const nhsNumber = query.nhsNumber ?? OTHER;
    const parsed = answer(interaction, { nhsNumber, localId: query.localId, patient: person({ nhsNumber }) });
    if (interaction === 'verifyNHSNumber' || interaction === 'getNHSNumber') delete parsed.patient;
    if (interaction === 'verifyNHSNumber') delete parsed.localId;
    expect(outcomeForResponse(interaction, query, parsed, HONEST)).toMatchObject({ status, nhsNumber });
  });

  it('accepts RelatesTo and acknowledgement ids naming our request, whatever their case or prefix', () => {
    const parsed = answer('verifyNHSNumber', {
      relatesTo: [`urn:uuid:${REQUEST.messageId.toLowerCase()}`],
      acknowledgedIds: [REQUEST.messageId, `uuid_${REQUEST.payloadId}`],
    });
    expect(outcomeForResponse('verifyNHSNumber', byNumber, parsed, HONEST)).toMatchObject({ status: 'verified', nhsNumber: SUPPLIED });
  });

  it('leaves a SOAP fault on HTTP 500 the fault error it is', () => {
    const fault = parseResponse(readSample('sample-tkw-itk-soapfault-Server-2100.xml'));
    expect(outcomeForResponse('verifyNHSNumber', byNumber, fault, { ...HONEST, httpStatus: 500 })).toMatchObject({ status: 'error', reason: 'itk_processing_error_retryable', retryable: true });
  });

  it('keeps the public samples verified / matched (the captured OpenTest and Inhealthcare answers)', () => {
    const captured = parseResponse(readSample('sample-nhsconnect-spine-smsp-getNHSNumber-response-SMSP-0000-opentest-captured.xml'));
    expect(outcomeForResponse('getNHSNumber', search, captured, HONEST)).toMatchObject({ status: 'matched', nhsNumber: '9473480032' });
    const inhealthcare = parseResponse(readSample('sample-inhealthcare-smsp-verifyNHSNumber-response-SMSP-0000-soap.xml'));
    expect(outcomeForResponse('verifyNHSNumber', { nhsNumber: '9449310092', dateOfBirth: '19700101' }, inhealthcare, HONEST)).toMatchObject({ status: 'verified', nhsNumber: '9449310092' });
  });
});

describe('answers that do not belong to their request', () => {
  it('refuses any SMSP payload on a status other than 200, success or business code', () => {
    expectRefused('verifyNHSNumber', byNumber, answer('verifyNHSNumber'), 'payload_on_http_error', { ...HONEST, httpStatus: 500 });
    expectRefused('getNHSNumber', search, answer('getNHSNumber', { responseCode: 'DEMOG-0001' }), 'payload_on_http_error', { ...HONEST, httpStatus: 500 });
  });

  it('refuses a RelatesTo naming another message, even beside ours', () => {
    expectRefused('verifyNHSNumber', byNumber, answer('verifyNHSNumber', { relatesTo: ['A1B2C3D4-0000-4000-8000-0000000000FF'] }), 'response_mismatch');
    expectRefused('verifyNHSNumber', byNumber, answer('verifyNHSNumber', { relatesTo: [REQUEST.messageId, 'OTHER'] }), 'response_mismatch');
  });

  it('refuses a RelatesTo naming our payload id: RelatesTo names messages', () => {
    expectRefused('verifyNHSNumber', byNumber, answer('verifyNHSNumber', { relatesTo: [REQUEST.payloadId] }), 'response_mismatch');
  });

  it('refuses an acknowledgement naming neither our message nor our payload', () => {
    expectRefused('getNHSNumber', search, answer('getNHSNumber', { acknowledgedIds: ['A1B2C3D4-0000-4000-8000-0000000000FF'] }), 'response_mismatch');
  });

  it('refuses a no-match that answers another request: it is not our no-match either', () => {
    expectRefused('getNHSNumber', search, answer('getNHSNumber', { responseCode: 'DEMOG-0001', relatesTo: ['OTHER'] }), 'response_mismatch');
  });

  it('refuses a replayed answer', () => {
    expectRefused('getNHSNumber', search, answer('getNHSNumber'), 'response_replayed', { ...HONEST, replayed: true });
  });

  it('refuses another local identifier, and one echoed when none was sent', () => {
    expectRefused('getNHSNumber', search, answer('getNHSNumber', { localId: 'LOCAL-2' }), 'local_id_mismatch');
    expectRefused('getNHSNumber', search, answer('getNHSNumber', { localId: 'LOCAL-1', otherLocalIds: ['LOCAL-2'] }), 'local_id_mismatch');
    const { localId: _none, ...withoutLocalId } = search;
    expectRefused('getNHSNumber', withoutLocalId, answer('getNHSNumber', { localId: 'LOCAL-1' }), 'local_id_mismatch');
  });

  it('refuses two different NHS numbers, whichever comes first', () => {
    expectRefused('verifyNHSNumber', byNumber, answer('verifyNHSNumber', { otherNhsNumbers: [OTHER] }), 'multiple_nhs_numbers');
    expectRefused('getNHSNumber', search, answer('getNHSNumber', { otherNhsNumbers: [SUPPLIED] }), 'multiple_nhs_numbers');
  });

  it.each(['verifyNHSNumber', 'getNHSNumber', 'getPatientDetailsBySearch'] as const)('refuses a %s success whose number fails Modulus 11 or is not a number', (interaction) => {
    const query = interaction === 'verifyNHSNumber' ? byNumber : search;
    for (const nhsNumber of [BAD_CHECK_DIGIT, 'NOTANUMBER', '99900000180', ' 9990000018']) {
      expectRefused(interaction, query, answer(interaction, { nhsNumber }), 'invalid_returned_nhs_number');
    }
  });

  it.each(['verifyNHSNumber', 'getPatientDetailsByNHSNumber', 'getPatientDetails'] as const)('refuses a %s success about another number than the one supplied', (interaction) => {
    expectRefused(interaction, byNumber, answer(interaction, { nhsNumber: OTHER }), 'returned_nhs_number_differs');
  });

  it('refuses DEMOG-0017 whose replacement is the supplied number or invalid, and accepts a valid other one', () => {
    const superseded = (nhsNumber: string) => answer('getPatientDetailsByNHSNumber', { responseCode: 'DEMOG-0017', nhsNumber });
    expectRefused('getPatientDetailsByNHSNumber', byNumber, superseded(SUPPLIED), 'replacement_nhs_number_unchanged');
    expectRefused('getPatientDetailsByNHSNumber', byNumber, superseded(BAD_CHECK_DIGIT), 'invalid_returned_nhs_number');
    expectRefused('getPatientDetailsByNHSNumber', byNumber, { ...superseded(OTHER), otherNhsNumbers: [SUPPLIED] }, 'multiple_nhs_numbers');
    expect(outcomeForResponse('getPatientDetailsByNHSNumber', byNumber, superseded(OTHER), HONEST)).toMatchObject({ status: 'superseded', nhsNumber: OTHER, supersededNhsNumber: SUPPLIED });
  });

  it.each(['getPatientDetailsBySearch', 'getPatientDetails'] as const)('refuses a %s answer whose birth date or sex contradicts the search', (interaction) => {
    expectRefused(interaction, search, answer(interaction, { localId: 'LOCAL-1', patient: person({ dateOfBirth: '19700102' }) }), 'response_contradicts_search');
    expectRefused(interaction, search, answer(interaction, { localId: 'LOCAL-1', patient: person({ sex: '1' }) }), 'response_contradicts_search');
    expectRefused(interaction, search, answer(interaction, { localId: 'LOCAL-1', patient: person({ dateOfBirth: 'unknown' }) }), 'response_contradicts_search');
  });

  it('does not hold a look-up by number to the search rule (PDS cross-checks those itself, DEMOG-0040)', () => {
    const parsed = answer('getPatientDetailsByNHSNumber', { patient: person({ nhsNumber: SUPPLIED, dateOfBirth: '19800101' }) });
    expect(outcomeForResponse('getPatientDetailsByNHSNumber', byNumber, parsed, HONEST).status).toBe('verified');
  });

  test.prop([fc.stringMatching(/^\d{0,12}$/), fc.constantFrom<Interaction>('verifyNHSNumber', 'getNHSNumber', 'getPatientDetailsByNHSNumber', 'getPatientDetailsBySearch', 'getPatientDetails')])(
    'never gives a number that is not the supplied one for a look-up, nor an invalid one for any answer',
    (nhsNumber, interaction) => {
      const query = interaction === 'getNHSNumber' || interaction === 'getPatientDetailsBySearch' ? search : byNumber;
      const outcome = outcomeForResponse(interaction, query, answer(interaction, { nhsNumber, localId: undefined }), HONEST);
      if (outcome.nhsNumber === undefined) return;
      expect(completeNhsNumber(outcome.nhsNumber.slice(0, 9))).toBe(outcome.nhsNumber);
      if (query.nhsNumber !== undefined) expect(outcome.nhsNumber).toBe(query.nhsNumber);
    },
  );

  it('has a person-readable message for every new reason', () => {
    for (const reason of ['payload_on_http_error', 'response_mismatch', 'response_replayed', 'local_id_mismatch', 'multiple_nhs_numbers', 'invalid_returned_nhs_number', 'returned_nhs_number_differs', 'replacement_nhs_number_unchanged', 'response_contradicts_search'] as const) {
      expect(REASONS[reason].length).toBeGreaterThan(20);
    }
  });
});

describe('search consistency rules', () => {
  it.each<[string, string, boolean]>([
    ['19700101', '19700101', false],
    ['197001', '19700101', false],
    ['1970', '19701231', false],
    ['19700101', '1970', false],
    ['19700101', '19700101120000', false],
    ['19700101', '19700102', true],
    ['197001', '19700201', true],
    ['1970', '19710101', true],
    ['19700101', '', true],
    ['19700101', 'not a date', true],
  ])('searched %s against returned %s contradicts: %s', (searched, returned, contradicts) => {
    expect(datesContradict(searched, returned)).toBe(contradicts);
  });

  it.each<[string | undefined, string, boolean]>([
    ['1', '1', false],
    ['1', '2', true],
    ['2', '1', true],
    ['1', '0', false],
    ['2', '9', false],
    ['0', '1', false],
    ['9', '2', false],
    [undefined, '1', false],
  ])('searched sex %s against returned %s contradicts: %s', (searched, returned, contradicts) => {
    expect(sexesContradict(searched, returned)).toBe(contradicts);
  });
});
