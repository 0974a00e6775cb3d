import { stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticCohort } from '../../../bench/csv-normalise.js';
import { openInput } from '../../../src/csv/read-input.js';

const ROWS = 200_000;
/** Pads rows to ~340 bytes: a file of about 65 MB. */
const NOTES_BYTES = 250;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pds-trace-large-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an input file of more than 50 MB', () => {
  it('streams every row, in order, with memory flat in the file size', async () => {
    const file = path.join(dir, 'large.csv');
    await writeSyntheticCohort(file, ROWS, NOTES_BYTES);
    const { size } = await stat(file);
    expect(size).toBeGreaterThan(50 * 1024 * 1024);

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let rows = 0;
    let valid = 0;
    let lastLine = 0;
    let inOrder = true;
    const input = await openInput(file, { today: new Date(2025, 5, 30) });
    for await (const row of input.rows) {
      rows++;
      inOrder &&= row.rowNumber === rows;
      if (row.query) valid++;
      lastLine = row.line;
      if (rows % 5_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }

    expect(rows).toBe(ROWS);
    expect(inOrder).toBe(true);
    expect(valid).toBe(ROWS);
    expect(lastLine).toBe(ROWS + 1);
    // Holding the file would take at least its size; streaming needs a few chunks, the records in
    // flight and the local-id table (8 bytes per id), plus whatever garbage the GC has not yet
    // collected (about 30 MB here, whatever the file size).
    const growth = peak - baseline;
    expect(growth).toBeLessThan(size * 0.75);
  }, 60_000);
});
