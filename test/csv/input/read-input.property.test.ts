import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { openInput, type InputRow } from '../../../src/csv/read-input.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pds-trace-property-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HEADER = ['NHS Number', 'DOB', 'Notes'];
// Any Unicode text except NUL, which no CSV producer writes and which would read as UTF-16.
const anyText = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replace(/\0/g, ''));
// Mostly the characters CSV treats specially, so quoting, line breaks and blank cells meet often.
const csvSpecials = fc.array(fc.constantFrom('"', ',', '\r', '\n', ' ', ';', '\t', 'a', 'é', ''), { maxLength: 6 }).map((parts) => parts.join(''));
const cell = fc.oneof(anyText, csvSpecials);
const table = fc.array(fc.tuple(cell, cell, cell), { maxLength: 25 });

describe('reading a CSV written by csv-stringify', () => {
  test.prop([table, fc.constantFrom('unix' as const, 'windows' as const, 'mac' as const), fc.boolean()], { numRuns: 100 })(
    'yields exactly one row per record, in order, with the cells as written (all-blank records are not rows)',
    async (rows, recordDelimiter, bom) => {
      // csv-stringify leaves a bare LF unquoted under CR records: CR then a cell starting with LF
      // is byte for byte a CRLF, which every reader takes as one line break.
      fc.pre(!(recordDelimiter === 'mac' && rows[0]?.[0]?.startsWith('\n')));
      const file = path.join(dir, `t${n++}.csv`);
      await writeFile(file, stringify([HEADER, ...rows], { record_delimiter: recordDelimiter, bom }));
      const expected = rows.filter((cells) => cells.some((c) => c.trim() !== ''));
      if (expected.length === 0) {
        // A header and nothing else is a file with no data rows (layout-plan.ts).
        await expect(openInput(file)).rejects.toMatchObject({ reason: 'no_rows' });
        return;
      }
      const input = await openInput(file, { today: new Date(2025, 5, 30) });
      const read: InputRow[] = [];
      for await (const row of input.rows) read.push(row);

      expect(input.layout.headers).toEqual(HEADER);
      expect(read.map((r) => r.cells)).toEqual(expected);
      expect(read.map((r) => r.rowNumber)).toEqual(expected.map((_, i) => i + 1));
      for (const row of read) expect(Boolean(row.query) !== Boolean(row.problem)).toBe(true);
    },
  );
});
