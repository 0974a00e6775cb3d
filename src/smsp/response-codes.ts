import type { TraceStatus } from '../domain/outcome.js';
import type { ReasonCode } from '../domain/reasons.js';

/**
 * SMSP response codes (value/@code, code system ...17.285) and how pds-trace reads them
 * (shared/smsp/SPEC.md §6.1). `success` codes carry a trace result whose status depends on the
 * interaction (verified or matched); every other code fixes the status here. A code not in this
 * table is an `error`, never a success.
 */
export interface ResponseCodeRule {
  description: string;
  /** `success` when the response carries the person; otherwise the fixed status. */
  status: TraceStatus | 'success';
  reason: ReasonCode;
  /** Whether sending the same request again later can help. */
  retryable: boolean;
}

export const RESPONSE_CODES = {
  'SMSP-0000': { description: 'Success', status: 'success', reason: 'ok', retryable: false },
  'SMSP-0001': { description: 'Input message validation error', status: 'invalid_input', reason: 'smsp_input_validation', retryable: false },
  'SMSP-0002': { description: 'Response message validation error', status: 'error', reason: 'smsp_response_validation', retryable: true },
  'SMSP-0003': { description: 'Data returned from local store, Spine unavailable', status: 'success', reason: 'stale_local_store', retryable: false },
  'SMSP-0004': { description: 'Could not connect to Spine', status: 'error', reason: 'spine_unreachable', retryable: true },
  'SMSP-0005': { description: 'Author Credentials Error', status: 'error', reason: 'author_credentials', retryable: false },
  'SMSP-9999': { description: 'Generic Spine Mini Service Provider software failure', status: 'error', reason: 'smsp_failure', retryable: true },
  'DEMOG-0001': { description: 'No Match', status: 'no_match', reason: 'no_match', retryable: false },
  'DEMOG-0007': { description: 'Multiple matches found', status: 'multiple_matches', reason: 'multiple_matches', retryable: false },
  'DEMOG-0017': { description: 'Superseding NHS number returned', status: 'superseded', reason: 'nhs_number_superseded', retryable: false },
  'DEMOG-0022': { description: 'NHS Number of response record has been invalidated', status: 'invalidated', reason: 'nhs_number_invalidated', retryable: false },
  'DEMOG-0040': { description: 'NHS number not verified', status: 'not_verified', reason: 'nhs_number_not_verified', retryable: false },
  'DEMOG-0042': { description: 'NHS Number is not a new style number', status: 'invalid_input', reason: 'nhs_number_not_new_style', retryable: false },
  'DEMOG-9999': { description: 'Generic Spine Service Errors', status: 'error', reason: 'pds_error', retryable: true },
} as const satisfies Record<string, ResponseCodeRule>;

export type ResponseCode = keyof typeof RESPONSE_CODES;

export const UNKNOWN_RESPONSE_CODE: ResponseCodeRule = {
  description: 'Unknown response code',
  status: 'error',
  reason: 'unknown_response_code',
  retryable: false,
};

export function responseCodeRule(code: string): ResponseCodeRule {
  // hasOwn: a provider code such as "toString" must not find an inherited property.
  return isKnownResponseCode(code) ? RESPONSE_CODES[code] : UNKNOWN_RESPONSE_CODE;
}

export function isKnownResponseCode(code: string): code is ResponseCode {
  return Object.hasOwn(RESPONSE_CODES, code);
}

/**
 * ITK SOAP fault codes (ToolkitErrorInfo/ErrorCode, code system ...17.268; SPEC §6.3).
 * Anything else in a fault is a non-retryable `soap_fault`.
 */
export const ITK_FAULT_CODES = {
  '1000': { description: 'Invalid message', reason: 'itk_invalid_message', retryable: false },
  '2100': { description: 'Processing error, retry', reason: 'itk_processing_error_retryable', retryable: true },
  '2200': { description: 'Processing error, do not retry', reason: 'itk_processing_error', retryable: false },
  '3000': { description: 'Access denied', reason: 'itk_access_denied', retryable: false },
} as const satisfies Record<string, { description: string; reason: ReasonCode; retryable: boolean }>;

export type ItkFaultCode = keyof typeof ITK_FAULT_CODES;
