/**
 * Names: trimmed, runs of whitespace (including the non-breaking spaces spreadsheets leave)
 * collapsed to one space, and nothing else altered. SMSP treats punctuation as significant
 * (batch-formats.md §6.4), so O'Reilly, Jones-Smith and Kociński reach PDS as written.
 */
import { EMPTY, problem, type FieldResult } from './field-result.js';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function normaliseName(raw: string): FieldResult<string> {
  const value = raw.replace(/\s+/g, ' ').trim();
  if (value === '') return EMPTY;
  if (CONTROL.test(value)) return problem('invalid_characters');
  return { kind: 'value', value };
}
