import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import type { PatientQuery } from '../../src/domain/demographics.js';
import { INTERACTIONS, type Interaction } from '../../src/domain/interaction.js';
import { STATUSES_WITH_NHS_NUMBER, type TraceStatus } from '../../src/domain/outcome.js';
import { SmspResponseFormatError, SmspTransportError } from '../../src/smsp/errors.js';
import { INTERACTION_SPECS } from '../../src/smsp/interactions.js';
import { parseResponse } from '../../src/smsp/parse-response.js';
import { RESPONSE_CODES, isKnownResponseCode } from '../../src/smsp/response-codes.js';
import type { AnswerContext } from '../../src/smsp/answer-checks.js';
import { outcomeForResponse as decide, outcomeForTransportError, type Resolution } from '../../src/smsp/to-outcome.js';
import type { ParsedFault, ParsedPayloadResponse } from '../../src/smsp/types.js';
import { readSample } from '../support/samples.js';

// Synthetic numbers from the never-issued 999 range, with valid check digits.
const SUPPLIED = '9990000018';
const RETURNED = '9990000026';

const byNumber: PatientQuery = { nhsNumber: SUPPLIED, dateOfBirth: '19700101' };
const byDemographics: PatientQuery = { familyName: 'TEST', givenName: 'ANNA', dateOfBirth: '19700101', sex: '2' };

/** An honest exchange: HTTP 200, an answer not seen before, no id naming another request. */
const ANSWERED: AnswerContext = { request: { messageId: 'A1B2C3D4-0000-4000-8000-000000000001', payloadId: 'A1B2C3D4-0000-4000-8000-000000000002' }, httpStatus: 200, replayed: false };

function outcomeForResponse(interaction: Interaction, query: PatientQuery, parsed: ParsedPayloadResponse | ParsedFault | ReturnType<typeof parseResponse>, context = ANSWERED): Resolution {
  return decide(interaction, query, parsed, context);
}

/** The query each interaction sends: by NHS number where it takes one. */
function queryFor(interaction: Interaction): PatientQuery {
  return interaction === 'getNHSNumber' || interaction === 'getPatientDetailsBySearch' ? byDemographics : byNumber;
}

/**
 * A well-formed answer to `interaction` with `code`, carrying a person as a success would: the
 * number supplied for a look-up by number, another one for a search or a replacement (DEMOG-0017).
 */
function answer(interaction: Interaction, code: string, extra: Partial<ParsedPayloadResponse> = {}): ParsedPayloadResponse {
  const byNhsNumber = queryFor(interaction).nhsNumber !== undefined && code !== 'DEMOG-0017';
  return {
    kind: 'response',
    responseCode: code,
    payloadRoot: INTERACTION_SPECS[interaction].responseRoot,
    nhsNumber: byNhsNumber ? SUPPLIED : RETURNED,
    ...(interaction === 'verifyNHSNumber' ? { verified: true } : {}),
    ...extra,
  };
}

function fault(itkErrorCode: string | undefined, itkErrorText?: string): ParsedFault {
  return {
    kind: 'fault',
    faultCode: 'Server',
    faultString: 'A Server related error has occurred',
    ...(itkErrorCode === undefined ? {} : { itkErrorCode }),
    ...(itkErrorText === undefined ? {} : { itkErrorText }),
  };
}

describe('response codes', () => {
  /** The status each code must give (SPEC §6.1); `success` codes depend on the interaction. */
  const EXPECTED: Record<string, { status: TraceStatus | 'by interaction'; retryable: boolean }> = {
    'SMSP-0000': { status: 'by interaction', retryable: false },
    'SMSP-0003': { status: 'by interaction', retryable: false },
    'DEMOG-0001': { status: 'no_match', retryable: false },
    'DEMOG-0007': { status: 'multiple_matches', retryable: false },
    'DEMOG-0040': { status: 'not_verified', retryable: false },
    'DEMOG-0017': { status: 'superseded', retryable: false },
    'DEMOG-0022': { status: 'invalidated', retryable: false },
    'SMSP-0001': { status: 'invalid_input', retryable: false },
    'DEMOG-0042': { status: 'invalid_input', retryable: false },
    'SMSP-0002': { status: 'error', retryable: true },
    'SMSP-0004': { status: 'error', retryable: true },
    'SMSP-0005': { status: 'error', retryable: false },
    'SMSP-9999': { status: 'error', retryable: true },
    'DEMOG-9999': { status: 'error', retryable: true },
  };

  /** verified when the lookup was keyed on the NHS number supplied, matched otherwise. */
  const SUCCESS_STATUS: Record<Interaction, TraceStatus> = {
    verifyNHSNumber: 'verified',
    getNHSNumber: 'matched',
    getPatientDetailsByNHSNumber: 'verified',
    getPatientDetailsBySearch: 'matched',
    getPatientDetails: 'verified',
  };

  it('has an expectation for every code in RESPONSE_CODES', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(RESPONSE_CODES).sort());
  });

  const cases = Object.keys(EXPECTED).flatMap((code) => INTERACTIONS.map((interaction) => [code, interaction] as const));

  it.each(cases)('maps %s for %s to the status the specification gives', (code, interaction) => {
    const expected = EXPECTED[code]!;
    const outcome = outcomeForResponse(interaction, queryFor(interaction), answer(interaction, code));
    const status = expected.status === 'by interaction' ? SUCCESS_STATUS[interaction] : expected.status;
    expect(outcome.status).toBe(status);
    expect(outcome.retryable).toBe(expected.retryable);
    expect(outcome.responseCode).toBe(code);
    expect(outcome.reason).toBe(RESPONSE_CODES[code as keyof typeof RESPONSE_CODES].reason);
    // Only statuses about a person found carry a number (a match is reported only as SMSP gave it).
    if (STATUSES_WITH_NHS_NUMBER.has(outcome.status)) expect(outcome.nhsNumber).toBe(answer(interaction, code).nhsNumber);
    else expect(outcome).not.toHaveProperty('nhsNumber');
  });

  it('reads SMSP-0003 (stale local store) as a trace with a warning reason', () => {
    const outcome = outcomeForResponse('getNHSNumber', byDemographics, answer('getNHSNumber', 'SMSP-0003'));
    expect(outcome).toStrictEqual<Resolution>({
      status: 'matched',
      reason: 'stale_local_store',
      retryable: false,
      responseCode: 'SMSP-0003',
      nhsNumber: RETURNED,
    });
  });

  it('maps getPatientDetails to verified with an NHS number and to matched with demographics only', () => {
    const parsed = answer('getPatientDetails', 'SMSP-0000');
    expect(outcomeForResponse('getPatientDetails', byNumber, parsed).status).toBe('verified');
    expect(outcomeForResponse('getPatientDetails', byDemographics, parsed).status).toBe('matched');
    expect(outcomeForResponse('getPatientDetails', { ...byDemographics, nhsNumber: '' }, parsed).status).toBe('matched');
  });

  it('maps an unknown response code to a non-retryable error that keeps the code', () => {
    const outcome = outcomeForResponse('getNHSNumber', byDemographics, answer('getNHSNumber', 'SMSP-0042'));
    expect(outcome).toStrictEqual<Resolution>({
      status: 'error',
      reason: 'unknown_response_code',
      retryable: false,
      responseCode: 'SMSP-0042',
    });
  });

  it.each(['toString', '__proto__', 'constructor', 'hasOwnProperty'])(
    'maps a code named like an inherited property (%s) to unknown_response_code',
    (code) => {
      expect(outcomeForResponse('getNHSNumber', byDemographics, answer('getNHSNumber', code))).toStrictEqual<Resolution>({
        status: 'error',
        reason: 'unknown_response_code',
        retryable: false,
        responseCode: code,
      });
    },
  );

  test.prop([fc.string({ maxLength: 20 }).filter((code) => !isKnownResponseCode(code)), fc.constantFrom(...INTERACTIONS)])(
    'never reads an unknown code as a success, whatever the payload carries',
    (code, interaction) => {
      const outcome = outcomeForResponse(interaction, queryFor(interaction), answer(interaction, code));
      expect(outcome.status).toBe('error');
      expect(outcome.reason).toBe('unknown_response_code');
      expect(outcome).not.toHaveProperty('nhsNumber');
    },
  );
});

describe('success answers that do not hold together', () => {
  it('maps verifyNHSNumber SMSP-0000 with validIdentifier false to not_verified', () => {
    const outcome = outcomeForResponse('verifyNHSNumber', byNumber, answer('verifyNHSNumber', 'SMSP-0000', { verified: false }));
    expect(outcome).toStrictEqual<Resolution>({
      status: 'not_verified',
      reason: 'verification_failed',
      retryable: false,
      responseCode: 'SMSP-0000',
    });
  });

  it('maps a verify success without a validIdentifier to a malformed response', () => {
    const parsed = answer('verifyNHSNumber', 'SMSP-0000');
    delete parsed.verified;
    expect(outcomeForResponse('verifyNHSNumber', byNumber, parsed)).toMatchObject({
      status: 'error',
      reason: 'malformed_response',
      retryable: false,
    });
  });

  it.each(INTERACTIONS)('maps a %s success with no NHS number to a malformed response, never a match', (interaction) => {
    const parsed = answer(interaction, 'SMSP-0000');
    delete parsed.nhsNumber;
    const outcome = outcomeForResponse(interaction, queryFor(interaction), parsed);
    expect(outcome).toMatchObject({ status: 'error', reason: 'malformed_response', retryable: false, responseCode: 'SMSP-0000' });
    expect(outcome).not.toHaveProperty('nhsNumber');
    expect(outcome).not.toHaveProperty('patient');
  });

  it('maps the TKW SMSP-0003 templates, which carry no person, to a malformed response', () => {
    const parsed = parseResponse(readSample('sample-tkw-ITK_SMS_PDS-getNHSNumberResponse_SMSP-0003.xml'));
    expect(outcomeForResponse('getNHSNumber', byDemographics, parsed)).toMatchObject({
      status: 'error',
      reason: 'malformed_response',
    });
  });

  it('maps a payload answering another interaction to a malformed response', () => {
    const outcome = outcomeForResponse('verifyNHSNumber', byNumber, answer('getNHSNumber', 'SMSP-0000'));
    expect(outcome).toMatchObject({ status: 'error', reason: 'malformed_response', retryable: false });
    expect(outcome.detail).toContain('verifyNHSNumberResponse-v1-0');
    expect(outcome).not.toHaveProperty('nhsNumber');
  });

  it('checks the root even for a failure code', () => {
    const outcome = outcomeForResponse('getPatientDetailsBySearch', byDemographics, answer('getNHSNumber', 'DEMOG-0001'));
    expect(outcome).toMatchObject({ status: 'error', reason: 'malformed_response' });
  });
});

describe('DEMOG-0017 superseded', () => {
  it('reports the number PDS returned as the one to use and the supplied one as superseded', () => {
    const outcome = outcomeForResponse('verifyNHSNumber', byNumber, answer('verifyNHSNumber', 'DEMOG-0017'));
    expect(outcome).toStrictEqual<Resolution>({
      status: 'superseded',
      reason: 'nhs_number_superseded',
      retryable: false,
      responseCode: 'DEMOG-0017',
      nhsNumber: RETURNED,
      supersededNhsNumber: SUPPLIED,
    });
  });

  it('reports no replacement when PDS returned none (the TKW templates carry no subject)', () => {
    const parsed = parseResponse(readSample('sample-tkw-ITK_SMS_PDS-getPatientDetailsByNHSNumberResponse_DEMOG-0017.xml'));
    expect(outcomeForResponse('getPatientDetailsByNHSNumber', byNumber, parsed)).toStrictEqual<Resolution>({
      status: 'superseded',
      reason: 'nhs_number_superseded',
      retryable: false,
      responseCode: 'DEMOG-0017',
      supersededNhsNumber: SUPPLIED,
    });
  });

  it('passes on the details PDS returned with the replacement number', () => {
    const patient = { nhsNumber: RETURNED, givenNames: ['ANNA'], addresses: [], telecoms: [] };
    const outcome = outcomeForResponse(
      'getPatientDetailsByNHSNumber',
      byNumber,
      answer('getPatientDetailsByNHSNumber', 'DEMOG-0017', { patient }),
    );
    expect(outcome).toMatchObject({ status: 'superseded', nhsNumber: RETURNED, supersededNhsNumber: SUPPLIED, patient });
  });
});

describe('public samples end to end (parse, then map)', () => {
  it('maps the TKW getPatientDetailsByNHSNumber success to verified with the patient', () => {
    const parsed = parseResponse(readSample('sample-tkw-ITK_SMS_PDS-getPatientDetailsByNHSNumberResponse_SMSP-0000.xml'));
    const outcome = outcomeForResponse('getPatientDetailsByNHSNumber', { nhsNumber: '9449310580', dateOfBirth: '19960530' }, parsed);
    expect(outcome).toMatchObject({ status: 'verified', reason: 'ok', nhsNumber: '9449310580', responseCode: 'SMSP-0000' });
    expect(outcome.patient).toMatchObject({ familyName: 'EASEMAN', gpPractice: { odsCode: 'H81109' } });
  });

  it('maps the TKW getPatientDetailsBySearch success to matched with the patient', () => {
    const parsed = parseResponse(readSample('sample-tkw-ITK_SMS_PDS-getPatientDetailsBySearchResponse_SMSP-0000.xml'));
    // Searched with the template patient's own birth date: the answer must not contradict the search.
    const outcome = outcomeForResponse('getPatientDetailsBySearch', { ...byDemographics, dateOfBirth: '20110323' }, parsed);
    expect(outcome).toMatchObject({ status: 'matched', nhsNumber: '9449310602' });
    expect(outcome.patient?.telecoms).toHaveLength(4);
  });

  it('maps the captured OpenTest getNHSNumber response to matched', () => {
    const parsed = parseResponse(readSample('sample-nhsconnect-spine-smsp-getNHSNumber-response-SMSP-0000-opentest-captured.xml'));
    expect(outcomeForResponse('getNHSNumber', byDemographics, parsed)).toStrictEqual<Resolution>({
      status: 'matched',
      reason: 'ok',
      retryable: false,
      responseCode: 'SMSP-0000',
      nhsNumber: '9473480032',
    });
  });

  it('maps the Inhealthcare verify response to verified', () => {
    const parsed = parseResponse(readSample('sample-inhealthcare-smsp-verifyNHSNumber-response-SMSP-0000-soap.xml'));
    expect(outcomeForResponse('verifyNHSNumber', { nhsNumber: '9449310092', dateOfBirth: '19700101' }, parsed)).toMatchObject({
      status: 'verified',
      nhsNumber: '9449310092',
    });
  });

  it('maps the DEMOG-0040 fixture that still says true to not_verified, without a number', () => {
    const parsed = parseResponse(readSample('sample-openinhealthcare-fixture-NotVerifiedVNNResponse.xml'));
    const outcome = outcomeForResponse('verifyNHSNumber', byNumber, parsed);
    expect(outcome).toStrictEqual<Resolution>({
      status: 'not_verified',
      reason: 'nhs_number_not_verified',
      retryable: false,
      responseCode: 'DEMOG-0040',
    });
  });

  it('maps a TKW fault template to an error whatever the interaction', () => {
    const parsed = parseResponse(readSample('sample-tkw-itk-soapfault-Server-2100.xml'));
    for (const interaction of INTERACTIONS) {
      expect(outcomeForResponse(interaction, queryFor(interaction), parsed)).toMatchObject({
        status: 'error',
        reason: 'itk_processing_error_retryable',
        retryable: true,
        responseCode: 'ITK-2100',
      });
    }
  });
});

describe('SOAP faults', () => {
  it.each([
    ['1000', 'itk_invalid_message', false],
    ['2100', 'itk_processing_error_retryable', true],
    ['2200', 'itk_processing_error', false],
    ['3000', 'itk_access_denied', false],
  ] as const)('maps ITK %s to %s (retryable: %s)', (code, reason, retryable) => {
    expect(outcomeForResponse('getNHSNumber', byDemographics, fault(code, 'Timestamp expired'))).toStrictEqual<Resolution>({
      status: 'error',
      reason,
      retryable,
      responseCode: `ITK-${code}`,
      detail: 'Timestamp expired',
    });
  });

  it('maps an unknown ITK code (the harness placeholder) to a non-retryable soap_fault', () => {
    const parsed = parseResponse(readSample('sample-tkw-itk-soapfault-tk_test_error.xml'));
    expect(outcomeForResponse('getNHSNumber', byDemographics, parsed)).toMatchObject({
      status: 'error',
      reason: 'soap_fault',
      retryable: false,
      responseCode: 'ITK-__ERRORCODE__',
    });
  });

  it('does not mistake an inherited property name for an ITK code', () => {
    expect(outcomeForResponse('getNHSNumber', byDemographics, fault('constructor'))).toMatchObject({
      reason: 'soap_fault',
      retryable: false,
    });
  });

  it('falls back to the fault string, and no response code, when there is no ToolkitErrorInfo', () => {
    expect(outcomeForResponse('getNHSNumber', byDemographics, fault(undefined))).toStrictEqual<Resolution>({
      status: 'error',
      reason: 'soap_fault',
      retryable: false,
      detail: 'A Server related error has occurred',
    });
  });
});

describe('transport and format errors', () => {
  it('keeps a transport error\'s reason and retry policy, with the HTTP status as the code', () => {
    const err = new SmspTransportError('provider busy', { reason: 'provider_busy', retryable: true, httpStatus: 503 });
    expect(outcomeForTransportError(err)).toStrictEqual<Resolution>({
      status: 'error',
      reason: 'provider_busy',
      retryable: true,
      responseCode: 'HTTP-503',
      detail: 'provider busy',
    });
  });

  it('has no response code when nothing came back', () => {
    const err = new SmspTransportError('no answer within 30000 ms', { reason: 'timeout', retryable: true, interaction: 'getNHSNumber' });
    expect(outcomeForTransportError(err)).toStrictEqual<Resolution>({
      status: 'error',
      reason: 'timeout',
      retryable: true,
      detail: 'no answer within 30000 ms',
    });
  });

  it('maps a malformed body to a non-retryable malformed_response', () => {
    let err: unknown;
    try {
      parseResponse('<!DOCTYPE x><x/>');
    } catch (caught) {
      err = caught;
    }
    expect(err).toBeInstanceOf(SmspResponseFormatError);
    expect(outcomeForTransportError(err as SmspResponseFormatError)).toMatchObject({
      status: 'error',
      reason: 'malformed_response',
      retryable: false,
      detail: expect.stringMatching(/DOCTYPE/),
    });
    expect(outcomeForTransportError(err as SmspResponseFormatError)).not.toHaveProperty('responseCode');
  });
});
