/**
 * UK postcodes: upper case with a single space before the inward code (the last three
 * characters), as SMSP expects (batch-formats.md §6.3: at most 8 characters, one space; DBS exports
 * hold `YO11GA`). A search wildcard form such as `LS1*` is kept, upper-cased.
 */
import { EMPTY, isBlankCode, problem, type FieldResult } from './field-result.js';

const FULL_POSTCODE = /^(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\d[A-Z]{2}$/;
const WILDCARD = /^[A-Z0-9]{2}[A-Z0-9 ]*\*$/;

export function normalisePostcode(raw: string): FieldResult<string> {
  if (isBlankCode(raw)) return EMPTY;
  const upper = raw.trim().toUpperCase();
  const compact = upper.replace(/\s+/g, '');
  if (FULL_POSTCODE.test(compact)) return { kind: 'value', value: `${compact.slice(0, -3)} ${compact.slice(-3)}` };
  const wildcard = upper.replace(/\s+/g, ' ');
  if (WILDCARD.test(wildcard)) return { kind: 'value', value: wildcard };
  return problem('postcode_format');
}
