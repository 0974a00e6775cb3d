import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RECORD_BYTES, openInput, type InputRow } from '../../../src/csv/read-input.js';
import { createResultsWriter } from '../../../src/csv/output/results-writer.js';
import { tempDir } from '../../support/pipeline.js';
import { matchedResult } from '../output/fixtures.js';

async function rowsOf(file: string, maxRecordBytes?: number): Promise<InputRow[]> {
  const input = await openInput(file, { today: new Date(2025, 5, 30), ...(maxRecordBytes ? { maxRecordBytes } : {}) });
  const rows: InputRow[] = [];
  for await (const row of input.rows) rows.push(row);
  return rows;
}

/** 100 KB of free text with the characters CSV quotes: commas, quotes, line breaks, and é/ł. */
const NOTES = Array.from({ length: 2000 }, (_, i) => `note ${i}, "quoted" żółć é\r\nline`).join(' ').slice(0, 100_000);

describe('large records', () => {
  it('reads a row with a 100 KB cell whole, by default, and traces it', async () => {
    expect(DEFAULT_MAX_RECORD_BYTES).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    const dir = await tempDir('large-cell');
    const quoted = `"${NOTES.replace(/"/g, '""')}"`;
    await writeFile(`${dir}/in.csv`, `NHS Number,DOB,Notes\n9990000018,2001-01-01,${quoted}\n9990000026,1985-12-31,short\n`);
    const rows = await rowsOf(`${dir}/in.csv`);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.cells).toEqual(['9990000018', '2001-01-01', NOTES]);
    expect(rows[0]!.problem).toBeUndefined();
    expect(rows[1]!.line).toBe(3 + (NOTES.match(/\r\n/g)?.length ?? 0));
  });

  it('writes the 100 KB cell into the results byte for byte', async () => {
    const dir = await tempDir('large-cell-out');
    const writer = await createResultsWriter(`${dir}/results.csv`, { inputHeaders: ['NHS Number', 'DOB', 'Notes'], format: 'native', bom: false });
    await writer.write({ cells: ['9990000018', '2001-01-01', NOTES], result: matchedResult(1) });
    await writer.close();
    const text = await readFile(`${dir}/results.csv`, 'utf8');
    expect(text).toContain(`"${NOTES.replace(/"/g, '""')}"`);
    const back = parse(text, { relax_column_count: true }) as string[][];
    expect(back[1]![2]).toBe(NOTES);
  });

  it('gives an over-limit record back as its first line, raw, in one cell, and reads the lines after it as rows', async () => {
    const dir = await tempDir('too-large');
    const lines = ['NHS Number,Surname,DOB', '9990000085,FIRST,1970-01-09', '9990000093,"NEVER CLOSED,1970-01-10'];
    for (let i = 0; i < 40; i++) lines.push(`9990000018,AFTER${i},1980-01-01`);
    await writeFile(`${dir}/in.csv`, `${lines.join('\n')}\n`);
    const rows = await rowsOf(`${dir}/in.csv`, 512);
    expect(rows).toHaveLength(42);
    expect(rows[1]!.problem?.reason).toBe('record_too_large');
    expect(rows[1]!.cells).toEqual(['9990000093,"NEVER CLOSED,1970-01-10']);
    expect(rows[1]!.problem?.message).toMatch(/line 3 .*its first line is given back as one cell/);
    expect(rows[2]!.cells).toEqual(['9990000018', 'AFTER0', '1980-01-01']);
  });

  it('keeps the first maxRecordBytes of a single over-long line, cut on a character boundary, and says so', async () => {
    const dir = await tempDir('too-long-line');
    await writeFile(`${dir}/in.csv`, `NHS Number,DOB,Notes\n9990000018,2001-01-01,${'é'.repeat(1000)}\n9990000026,1985-12-31,ok\n`);
    const rows = await rowsOf(`${dir}/in.csv`, 501);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.problem?.reason).toBe('record_too_large');
    expect(rows[0]!.problem?.message).toContain('the first part of its first line');
    const kept = rows[0]!.cells[0]!;
    expect(kept).not.toContain('\uFFFD');
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(501);
    expect(`9990000018,2001-01-01,${'é'.repeat(1000)}`.startsWith(kept)).toBe(true);
    expect(rows[1]!.cells).toEqual(['9990000026', '1985-12-31', 'ok']);
  });
});
