import { stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticCohort } from '../../../bench/csv-normalise.js';
import { openInput } from '../../../src/csv/read-input.js';

const ROWS = 200_000;
/** Pads rows to ~340 bytes: a file of about 65 MB. */
const NOTES_BYTES = 250;

/**
 * Memory the process holds live: measured after a full collection, so garbage not yet collected
 * (which depends on the machine's load, not on the code) does not count.
 */
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;
function liveBytes(): number {
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

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

    const baseline = liveBytes();
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
      if (rows % 10_000 === 0) peak = Math.max(peak, liveBytes());
    }

    expect(rows).toBe(ROWS);
    expect(inOrder).toBe(true);
    expect(valid).toBe(ROWS);
    expect(lastLine).toBe(ROWS + 1);
    // Holding the file would take at least its size; streaming holds a few chunks, the records in
    // flight and the local-id table (8 bytes per id): a small fraction of it.
    const growth = peak - baseline;
    expect(growth).toBeLessThan(size * 0.25);
  }, 60_000);
});
