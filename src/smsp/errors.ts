import type { ReasonCode } from '../domain/reasons.js';
import type { Interaction } from './interactions.js';

/**
 * A failed exchange with the SMSP provider. Carries what the retry policy and an operator need;
 * never patient data (messages reach logs and job records).
 */
export class SmspTransportError extends Error {
  override readonly name = 'SmspTransportError';
  readonly reason: ReasonCode;
  readonly retryable: boolean;
  readonly interaction: Interaction | undefined;
  readonly httpStatus: number | undefined;

  constructor(
    message: string,
    fields: {
      reason: ReasonCode;
      retryable: boolean;
      interaction?: Interaction;
      httpStatus?: number;
      cause?: unknown;
    },
  ) {
    // `cause` keeps the Node error underneath (ECONNRESET, ETIMEDOUT, ...) for operators.
    super(message, { cause: fields.cause });
    this.reason = fields.reason;
    this.retryable = fields.retryable;
    this.interaction = fields.interaction;
    this.httpStatus = fields.httpStatus;
  }
}

/** A response body that is not a well-formed SMSP response (or declares a DOCTYPE). */
export class SmspResponseFormatError extends Error {
  override readonly name = 'SmspResponseFormatError';
  readonly reason = 'malformed_response' as const;
  readonly retryable = false;
}

/** A query that cannot be sent as given: a local check failed. The field is named, its value never. */
export class SmspRequestInputError extends Error {
  override readonly name = 'SmspRequestInputError';
  constructor(
    readonly field: string,
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}
