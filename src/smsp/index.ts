/**
 * The public surface of the SMSP client: what pipeline, simulator and CLI code import. Anything not
 * exported here is an implementation detail of src/smsp/.
 */

export { SmspClient, createSmspClient, type SmspCallOptions, type SmspClientOptions, type SmspLimiter } from './client.js';
export {
  createHttpsTransport,
  loadTlsMaterial,
  TlsMaterialError,
  type HttpsTransportOptions,
  type SmspHttpResponse,
  type SmspTransport,
  type TlsMaterial,
} from './transport.js';
export { backoffDelay, sleep, DEFAULT_MAX_DELAY_MS } from './retry.js';
export { SmspRequestInputError, SmspResponseFormatError, SmspTransportError } from './errors.js';
export {
  INTERACTIONS,
  INTERACTION_SPECS,
  NHS_NUMBER_INTERACTIONS,
  DETAILS_INTERACTIONS,
  interactionForService,
  type Interaction,
  type InteractionSpec,
} from './interactions.js';
export {
  RESPONSE_CODES,
  ITK_FAULT_CODES,
  UNKNOWN_RESPONSE_CODE,
  responseCodeRule,
  isKnownResponseCode,
  type ResponseCode,
  type ResponseCodeRule,
  type ItkFaultCode,
} from './response-codes.js';
export type {
  EnvelopeContext,
  ParsedFault,
  ParsedPayloadResponse,
  ParsedResponse,
  SmspOutcome,
  SmspRequest,
} from './types.js';
export { buildRequest } from './build-request.js';
export { checkQuery } from './local-checks.js';
export { parseResponse } from './parse-response.js';
export { outcomeForResponse, outcomeForTransportError, type Resolution } from './to-outcome.js';
export type { AnswerContext, AnswerProblem } from './answer-checks.js';
