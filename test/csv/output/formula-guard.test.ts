import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { completeNhsNumber } from '../../../src/domain/nhs-number.js';
import { FORMULA_GUARD_PREFIX, guardFormula, startsLikeFormula } from '../../../src/csv/output/formula-guard.js';

const TRIGGERS = ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20'];

const validNhsNumber = fc
  .stringMatching(/^\d{9}$/)
  .map((nine) => completeNhsNumber(nine))
  .filter((n): n is NonNullable<typeof n> => n !== null);

const isoDate = fc
  .date({ min: new Date('1850-01-01T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

describe('guardFormula', () => {
  it.each(TRIGGERS.map((t) => [JSON.stringify(t), t]))('prefixes a cell starting with %s with an apostrophe', (_, trigger) => {
    expect(guardFormula(`${trigger}SUM(A1:A9)`)).toBe(`'${trigger}SUM(A1:A9)`);
    expect(startsLikeFormula(`${trigger}x`)).toBe(true);
  });

  it('leaves names, addresses and empty cells that cannot run as formulas unchanged', () => {
    for (const value of ['', "O'Reilly", 'Jones-Smith', '12 Example Street', 'LS1 6AE', ' =not first', 'a=b']) {
      expect(guardFormula(value)).toBe(value);
    }
  });

  it('neutralises a UK phone number written with a leading plus (a known, documented data change)', () => {
    expect(guardFormula('+44 7700 900123')).toBe("'+44 7700 900123");
  });

  test.prop([validNhsNumber])('never changes a valid NHS number', (nhsNumber) => {
    expect(guardFormula(nhsNumber)).toBe(nhsNumber);
  });

  test.prop([fc.stringMatching(/^\d{10}$/)])('never changes any ten-digit number, sentinels included', (digits) => {
    expect(guardFormula(digits)).toBe(digits);
  });

  test.prop([isoDate])('never changes an ISO date or its YYYYMMDD, YYYYMM and YYYY forms', (iso) => {
    const compact = iso.replaceAll('-', '');
    for (const date of [iso, compact, compact.slice(0, 6), compact.slice(0, 4), iso.slice(0, 7)]) {
      expect(guardFormula(date)).toBe(date);
    }
  });

  test.prop([fc.string({ unit: 'binary' })])('is idempotent', (value) => {
    expect(guardFormula(guardFormula(value))).toBe(guardFormula(value));
  });

  test.prop([fc.string({ unit: 'binary' })])('only ever adds the prefix, and only to formula-like cells', (value) => {
    const guarded = guardFormula(value);
    if (startsLikeFormula(value)) expect(guarded).toBe(FORMULA_GUARD_PREFIX + value);
    else expect(guarded).toBe(value);
    expect(startsLikeFormula(guarded)).toBe(false);
  });
});
