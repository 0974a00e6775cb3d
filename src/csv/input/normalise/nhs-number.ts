/**
 * NHS numbers as files hold them: `9990000018`, `999 000 0018`, `999-000-0018`. Spreadsheet damage
 * (batch-formats.md §6.6: scientific notation, numbers turned into decimals, leading zeros lost) is
 * reported rather than repaired, because the lost digits cannot be known; a number failing the
 * Modulus 11 check is reported, never silently traced by demographics instead.
 */
import { isValidNhsNumber } from '../../../domain/nhs-number.js';
import { EMPTY, isBlankCode, problem, type FieldResult } from './field-result.js';

const SEPARATORS = /[\s\u00a0\u2010-\u2015-]/g;

export function normaliseNhsNumber(raw: string): FieldResult<string> {
  if (isBlankCode(raw)) return EMPTY;
  const compact = raw.replace(SEPARATORS, '');
  if (/^\d{10}$/.test(compact)) {
    if (/^(\d)\1{9}$/.test(compact)) return problem('nhs_number_placeholder');
    return isValidNhsNumber(compact) ? { kind: 'value', value: compact } : problem('nhs_number_check_digit');
  }
  if (/^\d+(?:[.,]\d+)?e\+?\d+$/i.test(compact)) {
    return problem('nhs_number_excel_damaged', 'the NHS number is in scientific notation, as a spreadsheet writes long numbers; its last digits are lost');
  }
  if (/^\d{10}[.,]0+$/.test(compact)) {
    return problem('nhs_number_excel_damaged', 'the NHS number has a decimal part, as when a spreadsheet treated it as a number');
  }
  if (/^\d{9}$/.test(compact) && isValidNhsNumber(`0${compact}`)) {
    return problem('nhs_number_excel_damaged', 'the NHS number has nine digits and looks like a number whose leading zero a spreadsheet dropped');
  }
  return problem('nhs_number_format');
}
