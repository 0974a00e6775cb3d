/**
 * How fast CSV input is read, normalised and validated, and whether memory stays flat as files
 * grow: `benchNormalise(rows)` writes a synthetic cohort of `rows` rows to a temp dir, streams it
 * through `openInput` and reports rows per second and the peak resident set size while reading.
 * Peak RSS should be about the same for 100,000 and 1,000,000 rows (the local-id duplicate check
 * adds 8 bytes per id). Called by bench/run.ts; runnable alone with `npx tsx bench/csv-normalise.ts [rows]`.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { completeNhsNumber } from '../src/domain/nhs-number.js';
import { openInput } from '../src/csv/read-input.js';

export interface NormaliseBenchResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
}

const FAMILY = ['SMITH', 'JONES', "O'BRIEN", 'Taylor', 'van der Berg', 'KOCIŃSKI', 'Patel', 'Nguyen'];
const GIVEN = ['JOHN', 'Mary', 'Siân', 'AHMED', 'Zoë', 'li', 'Anne-Marie', 'Tom'];
const POSTCODES = ['LS1 1AA', 'ls11aa', 'M1 1AE', 'sw1a 2aa', 'CF10 1AA', 'B1 1AA', 'YO11GA', 'EH1 1YZ'];
const SEXES = ['M', 'F', '1', '2', 'male', 'female', 'U', '9'];

export const SYNTHETIC_HEADER = 'NHS Number,Surname,Forename,Date of Birth,Sex,Postcode,Local ID,Address Line 1,Address Line 2,Address Line 3,Notes';

/**
 * One synthetic row: an NHS number from the never-issued 999 range (blank when the nine leading
 * digits have no valid check digit, so those rows trace by demographics), mixed date forms and
 * messy-but-valid postcodes and sexes. `notesBytes` pads each row to model wide exports.
 */
export function syntheticRow(i: number, notesBytes = 0): string {
  const nhs = completeNhsNumber(String(999_000_000 + (i % 999_999)).padStart(9, '0')) ?? '';
  const day = (i % 28) + 1;
  const month = (i % 12) + 1;
  const year = 1930 + (i % 90);
  const dob = i % 2 === 0 ? `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` : `${day}/${month}/${year}`;
  const pick = <T>(list: readonly T[]) => list[i % list.length]!;
  const notes = notesBytes > 0 ? `"${'x'.repeat(notesBytes)}"` : '';
  return `${nhs},${pick(FAMILY)},${pick(GIVEN)},${dob},${pick(SEXES)},${pick(POSTCODES)},L${i},${i} High Street,Flat ${i % 9},Leeds,${notes}`;
}

/** Writes the header and `rows` synthetic rows, CRLF, streaming (flat memory). */
export async function writeSyntheticCohort(file: string, rows: number, notesBytes = 0): Promise<void> {
  const out = createWriteStream(file);
  const batch: string[] = [SYNTHETIC_HEADER];
  const flush = async () => {
    if (!out.write(batch.join('\r\n') + '\r\n')) await once(out, 'drain');
    batch.length = 0;
  };
  for (let i = 0; i < rows; i++) {
    batch.push(syntheticRow(i, notesBytes));
    if (batch.length >= 2000) await flush();
  }
  await flush();
  out.end();
  await once(out, 'close');
}

export async function benchNormalise(rows: number): Promise<NormaliseBenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pds-trace-bench-csv-'));
  try {
    const file = path.join(dir, 'cohort.csv');
    await writeSyntheticCohort(file, rows);
    globalThis.gc?.();
    let peakRss = process.memoryUsage().rss;
    const started = process.hrtime.bigint();
    const input = await openInput(file, { today: new Date(2025, 5, 30) });
    let read = 0;
    for await (const row of input.rows) {
      if (!row.query) throw new Error(`benchmark row ${row.rowNumber} did not validate: ${row.problem?.reason}`);
      if (++read % 10_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (read !== rows) throw new Error(`benchmark read ${read} rows of ${rows}`);
    return { rows: read, seconds, rowsPerSecond: Math.round(read / seconds), peakRssMb: Math.round(peakRss / 1024 / 1024) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = Number(process.argv[2] ?? 100_000);
  console.log(await benchNormalise(rows));
}
