/**
 * Turns what SMSP answered (or failed to answer) into pds-trace's closed outcome vocabulary
 * (src/domain/outcome.ts, SPEC §6). Pure: the client adds exchanges, timings and message ids, and
 * tells it which request an answer came back for (answer-checks.ts decides whether it belongs).
 */

import type { PatientQuery } from '../domain/demographics.js';
import { SmspTransportError, type SmspResponseFormatError } from './errors.js';
import { exchangeProblem, looksUpByNhsNumber, subjectProblem, type AnswerContext, type AnswerProblem } from './answer-checks.js';
import { INTERACTION_SPECS, type Interaction } from './interactions.js';
import { ITK_FAULT_CODES, responseCodeRule } from './response-codes.js';
import type { ParsedFault, ParsedPayloadResponse, ParsedResponse, SmspOutcome } from './types.js';

/** The part of an `SmspOutcome` decided by one answer. */
export type Resolution = Pick<
  SmspOutcome,
  'status' | 'reason' | 'retryable' | 'responseCode' | 'nhsNumber' | 'supersededNhsNumber' | 'patient' | 'detail'
>;

/**
 * Maps a parsed SMSP answer to an outcome for the interaction that asked, the query it sent and
 * the exchange it came back on.
 */
export function outcomeForResponse(interaction: Interaction, query: PatientQuery, parsed: ParsedResponse, context: AnswerContext): Resolution {
  return parsed.kind === 'fault' ? outcomeForFault(parsed) : outcomeForPayload(interaction, query, parsed, context);
}

/** A failure with no usable answer: the error already carries its reason and retry policy. */
export function outcomeForTransportError(err: SmspTransportError | SmspResponseFormatError): Resolution {
  const httpStatus = err instanceof SmspTransportError ? err.httpStatus : undefined;
  return resolution({
    status: 'error',
    reason: err.reason,
    retryable: err.retryable,
    responseCode: httpStatus === undefined ? undefined : `HTTP-${httpStatus}`,
    detail: err.message,
  });
}

function outcomeForPayload(interaction: Interaction, query: PatientQuery, parsed: ParsedPayloadResponse, context: AnswerContext): Resolution {
  const responseCode = parsed.responseCode;
  const expectedRoot = INTERACTION_SPECS[interaction].responseRoot;
  if (parsed.payloadRoot !== expectedRoot) {
    return malformed(responseCode, `payload root is not ${expectedRoot}`);
  }
  const notOurs = exchangeProblem(interaction, query, parsed, context);
  if (notOurs) return refused(responseCode, notOurs);

  // Unknown codes come back as a non-retryable error, never as a success (response-codes.ts).
  // Only own table keys count: responseCodeRule indexes a plain object, where a provider code
  // such as "toString" would otherwise find an inherited member.
  const rule = responseCodeRule(responseCode);
  if (rule.status === 'superseded') {
    // DEMOG-0017: the number supplied was replaced; PDS may return the replacement in subject
    // (SPEC §7; where it appears is open question 5), so it is only reported when present.
    const problem = parsed.nhsNumber === undefined ? undefined : subjectProblem(interaction, query, parsed, parsed.nhsNumber, true);
    if (problem) return refused(responseCode, problem);
    return resolution({
      status: 'superseded',
      reason: rule.reason,
      retryable: rule.retryable,
      responseCode,
      nhsNumber: parsed.nhsNumber,
      supersededNhsNumber: query.nhsNumber,
      patient: parsed.patient,
    });
  }
  if (rule.status !== 'success') {
    return resolution({ status: rule.status, reason: rule.reason, retryable: rule.retryable, responseCode });
  }

  // A match is reported only as SMSP gave it: no NHS number in the answer, no match.
  if (parsed.nhsNumber === undefined) {
    return malformed(responseCode, 'success response carries no NHS number');
  }
  const problem = subjectProblem(interaction, query, parsed, parsed.nhsNumber, false);
  if (problem) return refused(responseCode, problem);
  if (interaction === 'verifyNHSNumber') {
    if (parsed.verified === undefined) {
      return malformed(responseCode, 'verify response carries no validIdentifier value');
    }
    // SMSP-0000 with validIdentifier false (SPEC §11 q.6): PDS answered, and the answer is no.
    if (!parsed.verified) {
      return resolution({ status: 'not_verified', reason: 'verification_failed', retryable: false, responseCode });
    }
  }
  return resolution({
    status: looksUpByNhsNumber(interaction, query) ? 'verified' : 'matched',
    reason: rule.reason,
    retryable: rule.retryable,
    responseCode,
    nhsNumber: parsed.nhsNumber,
    patient: parsed.patient,
  });
}

function outcomeForFault(fault: ParsedFault): Resolution {
  const code = fault.itkErrorCode;
  const known = code !== undefined && Object.hasOwn(ITK_FAULT_CODES, code)
    ? ITK_FAULT_CODES[code as keyof typeof ITK_FAULT_CODES]
    : undefined;
  return resolution({
    status: 'error',
    reason: known?.reason ?? 'soap_fault',
    retryable: known?.retryable ?? false,
    responseCode: code === undefined ? undefined : `ITK-${code}`,
    // Provider texts about the message, not the patient (SPEC §6.3): the specific one if given.
    detail: fault.itkErrorText ?? (fault.faultString || undefined),
  });
}

/** An answer that does not belong to its request: an error, never a match (ARCHITECTURE property 8). */
function refused(responseCode: string, problem: AnswerProblem): Resolution {
  return resolution({ status: 'error', reason: problem.reason, retryable: false, responseCode, detail: problem.detail });
}

function malformed(responseCode: string, detail: string): Resolution {
  return resolution({ status: 'error', reason: 'malformed_response', retryable: false, responseCode, detail });
}

/** Leaves out what was not decided, so absent fields stay absent rather than present-but-undefined. */
function resolution(fields: Resolution): Resolution {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Resolution;
}
