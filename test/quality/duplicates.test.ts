import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import type { RowResult } from '../../src/domain/row-result.js';
import {
  MAX_RELATED_ROWS,
  NhsNumberIndex,
  NhsNumberIndexStateError,
  rowNhsNumbers,
  type RowNhsNumbers,
} from '../../src/quality/duplicates.js';

// Synthetic numbers from the never-issued test range, valid check digits.
const N = ['9990000018', '9990000026', '9990000034', '9990000042', '9990000050', '9990000069'] as const;

const own = (supplied?: string, returned?: string): RowNhsNumbers => ({ supplied, returned, returnedIsReplacement: false });
const replaced = (supplied: string, replacement: string): RowNhsNumbers => ({ supplied, returned: replacement, returnedIsReplacement: true });

function indexOf(rows: Array<[number, RowNhsNumbers]>): NhsNumberIndex {
  const index = new NhsNumberIndex();
  for (const [row, numbers] of rows) index.add(row, numbers);
  index.seal();
  return index;
}

describe('rowNhsNumbers', () => {
  const base: RowResult = { rowNumber: 1, status: 'verified', reason: 'ok', exchanges: [] };

  it('takes the supplied number from the query and the returned one from the result', () => {
    expect(rowNhsNumbers({ nhsNumber: N[0], dateOfBirth: '19800101' }, { ...base, nhsNumber: N[0] })).toEqual({ supplied: N[0], returned: N[0], returnedIsReplacement: false });
    expect(rowNhsNumbers({ dateOfBirth: '19800101' }, { ...base, status: 'matched', patient: { nhsNumber: N[1], givenNames: [], addresses: [], telecoms: [] } })).toEqual({ returned: N[1], returnedIsReplacement: false });
  });

  it('marks the returned number of a superseded row as the replacement of the supplied one', () => {
    const result: RowResult = { ...base, status: 'superseded', reason: 'nhs_number_superseded', nhsNumber: N[1], supersededNhsNumber: N[0] };
    expect(rowNhsNumbers(undefined, result)).toEqual({ supplied: N[0], returned: N[1], returnedIsReplacement: true });
  });

  it('holds nothing for a rejected row without a query', () => {
    expect(rowNhsNumbers(undefined, { ...base, status: 'invalid_input', reason: 'ragged_row' })).toEqual({ returnedIsReplacement: false });
  });
});

describe('NhsNumberIndex', () => {
  it('flags rows supplying the same number, each naming the others', () => {
    const index = indexOf([[1, own(N[0], N[0])], [2, own(N[1], N[1])], [3, own(N[0], N[0])], [7, own(N[0])]]);
    expect(index.findings(1, own(N[0], N[0]))).toEqual({ duplicate: { rows: [3, 7], more: false } });
    expect(index.findings(3, own(N[0], N[0]))).toEqual({ duplicate: { rows: [1, 7], more: false } });
    expect(index.findings(2, own(N[1], N[1]))).toEqual({});
  });

  it('flags a number supplied on one row and returned by a search on another', () => {
    const index = indexOf([[4, own(N[2], N[2])], [9, own(undefined, N[2])]]);
    expect(index.findings(4, own(N[2], N[2])).duplicate?.rows).toEqual([9]);
    expect(index.findings(9, own(undefined, N[2])).duplicate?.rows).toEqual([4]);
  });

  it('sends a superseded row and the row already holding its replacement to merge review, not as duplicates', () => {
    const index = indexOf([[2, replaced(N[0], N[1])], [5, own(N[1], N[1])], [6, own(N[3], N[3])]]);
    expect(index.findings(2, replaced(N[0], N[1]))).toEqual({ mergeReview: { rows: [5], more: false } });
    expect(index.findings(5, own(N[1], N[1]))).toEqual({ mergeReview: { rows: [2], more: false } });
    expect(index.findings(6, own(N[3], N[3]))).toEqual({});
  });

  it('leaves a superseded row whose replacement is nowhere else in the file unflagged', () => {
    const index = indexOf([[1, replaced(N[0], N[1])], [2, own(N[2], N[2])]]);
    expect(index.findings(1, replaced(N[0], N[1]))).toEqual({});
  });

  it('sends two rows superseded by the same replacement to merge review together', () => {
    const index = indexOf([[3, replaced(N[0], N[2])], [8, replaced(N[1], N[2])]]);
    expect(index.findings(3, replaced(N[0], N[2]))).toEqual({ mergeReview: { rows: [8], more: false } });
    expect(index.findings(8, replaced(N[1], N[2]))).toEqual({ mergeReview: { rows: [3], more: false } });
  });

  it('reports both findings when a replacement is also duplicated by two other rows', () => {
    const index = indexOf([[1, replaced(N[0], N[1])], [2, own(N[1], N[1])], [3, own(N[1])]]);
    expect(index.findings(2, own(N[1], N[1]))).toEqual({ duplicate: { rows: [3], more: false }, mergeReview: { rows: [1, 3], more: false } });
    expect(index.findings(1, replaced(N[0], N[1]))).toEqual({ mergeReview: { rows: [2, 3], more: false } });
  });

  it('ignores numbers that are not ten digits', () => {
    const index = indexOf([[1, own('12345', '12345')], [2, own('12345')]]);
    expect(index.size).toBe(0);
    expect(index.findings(1, own('12345'))).toEqual({});
  });

  it('lists at most MAX_RELATED_ROWS related rows and says there are more', () => {
    const rows: Array<[number, RowNhsNumbers]> = Array.from({ length: MAX_RELATED_ROWS + 5 }, (_, i) => [i + 1, own(N[4])]);
    const index = indexOf(rows);
    const found = index.findings(1, own(N[4])).duplicate!;
    expect(found.rows).toHaveLength(MAX_RELATED_ROWS);
    expect(found.rows[0]).toBe(2);
    expect(found.more).toBe(true);
    expect(index.findings(30, own(N[5]))).toEqual({});
  });

  it('tells apart numbers that differ only in the last digit or either side of a tenth', () => {
    // Not valid NHS numbers: the index compares any ten digits, check digit or not.
    const edges = ['9990000019', '9990000020', '9990000029', '0000000000', '9999999999'];
    const index = indexOf(edges.flatMap((n, i): Array<[number, RowNhsNumbers]> => [[2 * i + 1, own(n)], [2 * i + 2, own(n)]]));
    edges.forEach((n, i) => expect(index.findings(2 * i + 1, own(n))).toEqual({ duplicate: { rows: [2 * i + 2], more: false } }));
  });

  it('finds the same rows when it holds many more numbers than it was told to expect', () => {
    const rows = Array.from({ length: 5000 }, (_, i): [number, RowNhsNumbers] => [i + 1, i % 7 === 0 ? replaced(N[i % 3]!, N[3 + (i % 3)]!) : own(N[i % 6])]);
    const grown = new NhsNumberIndex(1);
    for (const [row, numbers] of rows) grown.add(row, numbers);
    grown.seal();
    const sized = new NhsNumberIndex(rows.length * 2);
    for (const [row, numbers] of [...rows].reverse()) sized.add(row, numbers);
    sized.seal();
    expect(grown.size).toBe(sized.size);
    for (const [row, numbers] of rows) expect(grown.findings(row, numbers)).toEqual(sized.findings(row, numbers));
  });

  it('refuses to answer before it is sealed, and to grow after', () => {
    const index = new NhsNumberIndex();
    index.add(1, own(N[0]));
    expect(() => index.findings(1, own(N[0]))).toThrow(NhsNumberIndexStateError);
    index.seal();
    expect(() => index.add(2, own(N[0]))).toThrow(NhsNumberIndexStateError);
  });

  test.prop([fc.array(fc.record({ supplied: fc.option(fc.constantFrom(...N), { nil: undefined }), returned: fc.option(fc.constantFrom(...N), { nil: undefined }) }), { maxLength: 80 })])(
    'flags a row as a duplicate exactly when another row holds one of its numbers, listing the lowest rows, in any order of adding',
    (drawn) => {
      const rows = drawn.map((numbers, i): [number, RowNhsNumbers] => [i + 1, own(numbers.supplied, numbers.returned)]);
      const held = (n: RowNhsNumbers) => new Set([n.supplied, n.returned].filter(Boolean));
      const forward = indexOf(rows);
      const backward = indexOf([...rows].reverse());
      for (const [row, numbers] of rows) {
        const expected = rows
          .filter(([other, theirs]) => other !== row && [...held(numbers)].some((n) => held(theirs).has(n)))
          .map(([other]) => other);
        const found = forward.findings(row, numbers).duplicate;
        expect(found?.rows ?? []).toEqual(expected.slice(0, MAX_RELATED_ROWS));
        expect(found?.more ?? false).toBe(expected.length > MAX_RELATED_ROWS);
        expect(backward.findings(row, numbers)).toEqual(forward.findings(row, numbers));
      }
    },
  );
});
