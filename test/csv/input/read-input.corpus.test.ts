import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputFileError, openInput, type InputRow } from '../../../src/csv/read-input.js';
import type { CorpusCase, RowExpectation } from '../corpus/make-corpus.js';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../corpus');
const cases = JSON.parse(readFileSync(path.join(corpus, 'expected.json'), 'utf8')) as CorpusCase[];
const TODAY = new Date(2025, 5, 30, 12, 0, 0);

async function collect(rows: AsyncIterable<InputRow>): Promise<InputRow[]> {
  const out: InputRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

function expectRow(row: InputRow | undefined, expected: RowExpectation, rowNumber: number): void {
  expect(row, `row ${rowNumber}`).toBeDefined();
  const label = `row ${rowNumber} (line ${expected.line})`;
  expect(row!.rowNumber, label).toBe(rowNumber);
  expect(row!.line, label).toBe(expected.line);
  if (expected.reason) {
    expect(row!.problem?.reason, label).toBe(expected.reason);
    expect(row!.query, label).toBeUndefined();
    if (expected.field) expect(row!.problem?.field, label).toBe(expected.field);
  }
  if (expected.query) {
    expect(row!.problem, label).toBeUndefined();
    expect(row!.query, label).toEqual(expected.query);
  }
  expect(row!.flags, label).toEqual(expected.flags ?? []);
  if (expected.cells) expect(row!.cells, label).toEqual(expected.cells);
}

describe('the awkward-input corpus', () => {
  it('has at least 40 files with asserted outcomes', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of cases) {
    it(`${c.file}: ${c.about}`, async () => {
      const options = {
        today: TODAY,
        ...c.options,
        ...(c.options?.mappingFile ? { mappingFile: path.join(corpus, c.options.mappingFile) } : {}),
      };
      const file = path.join(corpus, c.file);

      if (c.error) {
        const err = await openInput(file, options).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(InputFileError);
        const fileError = err as InputFileError;
        expect(fileError.reason).toBe(c.error.reason);
        if (c.error.found) expect(fileError.found).toEqual(c.error.found);
        if (c.error.missing) expect(fileError.missing).toEqual(c.error.missing);
        expect(fileError.message, 'no NHS numbers in messages').not.toMatch(/\d{10}/);
        return;
      }

      const input = await openInput(file, options);
      const rows = await collect(input.rows);
      const { warnings, ...expectedLayout } = c.layout ?? {};
      expect(input.layout).toMatchObject(expectedLayout);
      for (const w of warnings ?? []) expect(input.layout.warnings.some((actual) => actual.includes(w)), `a warning mentions ${w}: ${JSON.stringify(input.layout.warnings)}`).toBe(true);

      if (c.rows) {
        expect(rows.length).toBe(c.rows.length);
        c.rows.forEach((expected, i) => expectRow(rows[i], expected, i + 1));
      }
      if (c.rowCount !== undefined) expect(rows.length).toBe(c.rowCount);
      for (const [n, expected] of Object.entries(c.someRows ?? {})) expectRow(rows[Number(n) - 1], expected, Number(n));
      rows.forEach((row, i) => expect(row.rowNumber).toBe(i + 1));
    });
  }
});
