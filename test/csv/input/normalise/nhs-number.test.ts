import { describe, expect, it } from 'vitest';
import { normaliseNhsNumber } from '../../../../src/csv/input/normalise/nhs-number.js';

describe('normaliseNhsNumber', () => {
  it.each([
    ['9990000018', '9990000018'],
    ['999 000 0018', '9990000018'],
    ['999-000-0018', '9990000018'],
    [' 999\u00a0000\u00a00018 ', '9990000018'],
    ['999–000–0018', '9990000018'],
  ])('accepts %j as %s', (raw, value) => {
    expect(normaliseNhsNumber(raw)).toEqual({ kind: 'value', value });
  });

  it.each(['', '   ', 'NULL', 'n/a', '-'])('treats %j as no NHS number', (raw) => {
    expect(normaliseNhsNumber(raw)).toEqual({ kind: 'empty' });
  });

  it('reports a ten-digit number that fails Modulus 11 as nhs_number_check_digit', () => {
    expect(normaliseNhsNumber('9990000019')).toMatchObject({ kind: 'problem', reason: 'nhs_number_check_digit' });
  });

  it.each(['9.99E+09', '9.99000002E+09', '9,99E+09', '9.99e9'])('reports scientific notation %j as spreadsheet damage', (raw) => {
    expect(normaliseNhsNumber(raw)).toMatchObject({ kind: 'problem', reason: 'nhs_number_excel_damaged', detail: expect.stringContaining('scientific') });
  });

  it('reports a decimal part as spreadsheet damage rather than dropping it', () => {
    expect(normaliseNhsNumber('9990000018.0')).toMatchObject({ kind: 'problem', reason: 'nhs_number_excel_damaged', detail: expect.stringContaining('decimal') });
  });

  it('reports nine digits that would be valid with a leading zero as a lost leading zero', () => {
    // 0990000028 passes Modulus 11 and can be no real number (CHI digits 3–4 are a month).
    expect(normaliseNhsNumber('990000028')).toMatchObject({ kind: 'problem', reason: 'nhs_number_excel_damaged', detail: expect.stringContaining('leading zero') });
  });

  it('reports nine digits that no leading zero would fix as a format problem', () => {
    expect(normaliseNhsNumber('999000001')).toMatchObject({ kind: 'problem', reason: 'nhs_number_format' });
  });

  it.each(['99900000', '999000001X', '99900000181', 'ABC'])('reports %j as nhs_number_format', (raw) => {
    expect(normaliseNhsNumber(raw)).toMatchObject({ kind: 'problem', reason: 'nhs_number_format' });
  });

  it.each(['0000000000', '9999999999', '1111111111'])('reports the placeholder %s even though it passes Modulus 11', (raw) => {
    expect(normaliseNhsNumber(raw)).toMatchObject({ kind: 'problem', reason: 'nhs_number_placeholder' });
  });
});
