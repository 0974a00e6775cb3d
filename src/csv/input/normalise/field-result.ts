import type { ReasonCode } from '../../../domain/reasons.js';

/**
 * What a normaliser made of one cell: nothing there, a normalised value (with an optional non-fatal
 * flag for the row), or a problem. `detail` explains the problem without quoting the value.
 */
export type FieldResult<T> =
  | { kind: 'empty' }
  | { kind: 'value'; value: T; flag?: string }
  | { kind: 'problem'; reason: ReasonCode; detail?: string };

export const EMPTY: FieldResult<never> = { kind: 'empty' };

export function problem(reason: ReasonCode, detail?: string): FieldResult<never> {
  return detail === undefined ? { kind: 'problem', reason } : { kind: 'problem', reason, detail };
}

/**
 * Blank, or a database's way of writing "no value" (`NULL` from SQL exports, `N/A`, `-`). Used for
 * coded fields only: a family name "Null" is someone's name and is left alone.
 */
export function isBlankCode(raw: string): boolean {
  return /^\s*(?:null|n\/?a|none|-+|\.)?\s*$/i.test(raw);
}
