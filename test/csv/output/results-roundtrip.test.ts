import { afterAll, beforeAll, describe, expect } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { guardFormula, startsLikeFormula } from '../../../src/csv/output/formula-guard.js';
import { createResultsWriter, TRACE_COLUMNS } from '../../../src/csv/output/results-writer.js';
import { matchedResult, readCsv, tempDir, type TempDir } from './fixtures.js';

let tmp: TempDir;
let n = 0;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

/**
 * Any table of strings: quotes, commas, CR/LF inside cells, BOM-like and formula-like starts,
 * astral characters and empty cells. NUL is left out: it is not text any CSV consumer keeps.
 */
const cell = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', ' ', '"', '""', ',', '\r\n', '\n', '\r', '\ufeff', "'", '=1+1', '-', '@x', '\tTab', '\uFF1D1'),
  fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', ' ', '=', '-'), maxLength: 8 }),
);

const table = fc.integer({ min: 1, max: 5 }).chain((width) =>
  fc.record({
    headers: fc.array(cell, { minLength: width, maxLength: width }),
    rows: fc.array(fc.array(cell, { minLength: width, maxLength: width }), { maxLength: 8 }),
    bom: fc.boolean(),
  }),
);

describe('results CSV round trip', () => {
  test.prop([table], {
    numRuns: 60,
    examples: [
      [{ headers: ['\ufeffid', 'a'], rows: [['\ufeff', '\n']], bom: false }],
      [{ headers: ['x'], rows: [['line one\nline two'], ['\r'], ['"quoted"']], bom: true }],
    ],
  })('reads back every cell as written, formula-like cells with the guard prefix only', async ({ headers, rows, bom }) => {
    const file = tmp.file(`table-${++n}.csv`);
    const writer = await createResultsWriter(file, { inputHeaders: headers, format: 'native', bom });
    for (const [i, cells] of rows.entries()) await writer.write({ cells, result: matchedResult(i + 1) });
    await writer.close();

    const back = await readCsv(file);
    expect(back).toHaveLength(rows.length + 1);
    const width = headers.length;
    expect(back[0]!.slice(0, width)).toEqual(headers.map(guardFormula));
    expect(back[0]!.slice(width)).toEqual([...TRACE_COLUMNS]);
    rows.forEach((cells, i) => {
      const echoed = back[i + 1]!.slice(0, width);
      // Only formula-like cells differ, and only by the leading apostrophe.
      echoed.forEach((value, j) => {
        const original = cells[j]!;
        expect(value).toBe(startsLikeFormula(original) ? `'${original}` : original);
      });
      expect(back[i + 1]![width]).toBe('matched');
    });
  });
});
