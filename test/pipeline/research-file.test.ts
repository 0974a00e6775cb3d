import { describe, expect, it } from 'vitest';
import { TRACE_STATUSES } from '../../src/domain/outcome.js';
import type { RowResult } from '../../src/domain/row-result.js';
import { researchFileName, researchRecord, trustedNhsNumber } from '../../src/pipeline/research-file.js';

const result = (status: RowResult['status'], extra: Partial<RowResult> = {}): RowResult => ({ rowNumber: 3, status, reason: 'x', exchanges: [], ...extra });

describe('research file lines', () => {
  it('keeps the NHS number only for verified, matched and superseded (the replacement)', () => {
    const kept = TRACE_STATUSES.filter((status) => trustedNhsNumber(result(status, { nhsNumber: '9434765919' })) !== '');
    expect(kept).toEqual(['verified', 'matched', 'superseded']);
    expect(trustedNhsNumber(result('superseded', { nhsNumber: '9434765919', supersededNhsNumber: '9434765870' }))).toBe('9434765919');
    // A number PDS returned with the record counts when the result names none itself.
    expect(trustedNhsNumber(result('matched', { patient: { nhsNumber: '9434765919' } as RowResult['patient'] }))).toBe('9434765919');
  });

  it('writes the row number, the local id (guarded against spreadsheet formulas), the status and the number', () => {
    const cells = ['=HYPERLINK("http://x")', 'Smith', '1980-01-02'];
    expect(researchRecord({ rowNumber: 3, cells }, 0, result('verified', { nhsNumber: '9434765919' }))).toEqual(["3", `'=HYPERLINK("http://x")`, 'verified', '9434765919']);
    // No local id column: empty, never another cell.
    expect(researchRecord({ rowNumber: 4, cells }, undefined, result('no_match'))).toEqual(['4', '', 'no_match', '']);
  });

  it('is named after the results file, SIMULATED mark and all', () => {
    expect(researchFileName({ name: 'cohort', outputs: { results: '/o/cohort.SIMULATED.results.csv' } as never })).toBe('cohort.SIMULATED.research.csv');
    expect(researchFileName({ name: 'cohort' })).toBe('cohort.research.csv');
  });
});
