import type { ReasonCode } from '../../domain/reasons.js';

/** Columns that could each be the same field, as reported by a `columns_ambiguous` rejection. */
export interface AmbiguousField {
  field: string;
  columns: string[];
}

/**
 * A file rejected as a whole: it cannot be read as a table of demographics. The message lists the
 * columns found and the fields missing; it never carries cell values (no patient data).
 */
export class InputFileError extends Error {
  override readonly name = 'InputFileError';
  readonly reason: ReasonCode;
  readonly found: string[];
  readonly missing: string[];
  readonly ambiguous: AmbiguousField[];

  constructor(reason: ReasonCode, message: string, details: { found?: string[]; missing?: string[]; ambiguous?: AmbiguousField[] } = {}) {
    super(message);
    this.reason = reason;
    this.found = details.found ?? [];
    this.missing = details.missing ?? [];
    this.ambiguous = details.ambiguous ?? [];
  }
}
