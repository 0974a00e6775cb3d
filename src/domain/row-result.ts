import type { PdsPatient } from './demographics.js';
import type { Interaction } from './interaction.js';
import type { TraceStatus } from './outcome.js';

/** One request/response exchange with SMSP (one attempt), as the audit trail records it. */
export interface TraceExchange {
  interaction: Interaction;
  /** wsa:MessageID of the request. */
  messageId: string;
  /** wsa:MessageID of the answer, when it had one (NHS Digital always sends one, SPEC §2.3). */
  responseMessageId?: string;
  /** wsa:RelatesTo of the answer, when given (NHS Digital sends none); several are space-separated. */
  relatesTo?: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  /** ISO 8601 UTC time the request was sent. */
  startedAt: string;
  durationMs: number;
  /** SMSP/DEMOG code, `ITK-<code>` for a fault, `HTTP-<status>`; absent when nothing came back. */
  responseCode?: string;
  status: TraceStatus;
  reason: string;
}

/**
 * The final outcome of one input row: what the results file, audit file and summary are written from.
 * Rows rejected locally have no exchanges.
 */
export interface RowResult {
  /** 1-based position of the row among the file's data rows (header excluded), in input order. */
  rowNumber: number;
  status: TraceStatus;
  /** A code from src/domain/reasons.ts. */
  reason: string;
  /** Extra PII-free detail (the field or rule at fault, the provider's fault text). */
  detail?: string;
  /** The interaction whose answer decided the status. */
  interaction?: Interaction;
  responseCode?: string;
  /** wsa:MessageID of the request whose answer decided the status. */
  messageId?: string;
  /** The NHS number to use, as PDS returned it. */
  nhsNumber?: string;
  /** For `superseded`: the number supplied, which PDS replaced. */
  supersededNhsNumber?: string;
  patient?: PdsPatient;
  /**
   * The fallback steps taken for the row, in order (src/pipeline/strategy.ts FALLBACKS), so the
   * summary can say how many rows each fallback changed. Absent when none was taken.
   */
  fallbacks?: string[];
  exchanges: TraceExchange[];
  /**
   * Fingerprint of the input row this result belongs to (src/pipeline/row-digest.ts), checked
   * when results are joined to rows. Absent in results of batches ingested before it existed.
   */
  rowDigest?: string;
}
