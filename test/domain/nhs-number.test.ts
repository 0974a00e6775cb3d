import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { completeNhsNumber, formatNhsNumberForDisplay, isValidNhsNumber, nhsCheckDigit } from '../../src/domain/nhs-number.js';

describe('NHS number Modulus 11', () => {
  it('accepts the worked example and OpenTest numbers from the specification', () => {
    for (const n of ['9434765919', '9449310092', '9473480032', '9449304424']) expect(isValidNhsNumber(n)).toBe(true);
  });

  it('rejects 9999345201, the community sample whose check digit should be 4', () => {
    expect(isValidNhsNumber('9999345201')).toBe(false);
    expect(nhsCheckDigit('999934520')).toBe(4);
  });

  it('rejects numbers of the wrong length or with non-digits', () => {
    for (const n of ['943476591', '94347659190', '943 476 5919', '94347659l9', '']) expect(isValidNhsNumber(n)).toBe(false);
  });

  it('has no valid completion when 11 − (sum mod 11) is 10', () => {
    // 6 × weight 2 = 12 ≡ 1 (mod 11) → check 10 → never issued
    expect(nhsCheckDigit('000000006')).toBe(null);
    expect(completeNhsNumber('000000006')).toBe(null);
    // sum ≡ 0 → check 11 → digit 0
    expect(nhsCheckDigit('000000000')).toBe(0);
  });

  test.prop([fc.stringMatching(/^\d{9}$/)])('a completed number always validates, and any other last digit fails', (nine) => {
    const full = completeNhsNumber(nine);
    if (full === null) return;
    expect(isValidNhsNumber(full)).toBe(true);
    const wrong = `${nine}${(Number(full[9]) + 1) % 10}`;
    expect(isValidNhsNumber(wrong)).toBe(false);
  });

  it('formats for people as 3-3-4 and leaves other values alone', () => {
    expect(formatNhsNumberForDisplay('9434765919')).toBe('943 476 5919');
    expect(formatNhsNumberForDisplay('abc')).toBe('abc');
  });
});
