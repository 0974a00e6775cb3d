/**
 * Spreadsheet formula-injection guard (CWE-1236, OWASP "CSV Injection"; ecosystem.md §4.3).
 *
 * Excel, LibreOffice and Numbers run a cell as a formula when it starts with `=`, `+`, `-` or `@`,
 * and some also after a leading tab or carriage return; Apple Numbers normalises the full-width
 * forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) to the ASCII ones first. RFC 4180 quoting does not stop
 * any of this. A leading apostrophe makes every one of them show the text as typed.
 *
 * The trigger set is csv-stringify's `escape_formulas` list (adaltas/node-csv
 * packages/csv-stringify/lib/api/index.js), applied per cell here instead of per file so that only
 * values from people or from PDS are touched. Identifiers are safe by construction: an NHS number,
 * an ISO or YYYYMMDD date, a code or a UUID never starts with a trigger, so the guard leaves them
 * alone (property-tested in test/csv/output/formula-guard.test.ts).
 */
const FORMULA_TRIGGERS: ReadonlySet<string> = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

/** The prefix that neutralises a formula cell. */
export const FORMULA_GUARD_PREFIX = "'";

/** True when a spreadsheet would treat the cell as a formula. */
export function startsLikeFormula(value: string): boolean {
  return value.length > 0 && FORMULA_TRIGGERS.has(value[0]!);
}

/**
 * The cell as it is safe to write. Idempotent: a guarded cell starts with `'`, which is not a
 * trigger, so guarding twice changes nothing more.
 */
export function guardFormula(value: string): string {
  return startsLikeFormula(value) ? FORMULA_GUARD_PREFIX + value : value;
}
