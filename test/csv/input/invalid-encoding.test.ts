import { writeFile } from 'node:fs/promises';
import iconv from 'iconv-lite';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { detectEncoding } from '../../../src/csv/input/encoding.js';
import { readRecords } from '../../../src/csv/input/record-reader.js';
import { openInput, type InputRow } from '../../../src/csv/read-input.js';
import { tempDir } from '../../support/pipeline.js';

async function fileOf(bytes: Buffer): Promise<string> {
  const file = `${await tempDir('encoding-rule')}/in.csv`;
  await writeFile(file, bytes);
  return file;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const BAD = Buffer.from([0xe9]); // é in Windows-1252, alone: not UTF-8

describe('UTF-8 or Windows-1252, from the whole file', () => {
  it('keeps a UTF-8 file with a few bad bytes as UTF-8', async () => {
    const file = await fileOf(Buffer.concat([utf8('NHS Number,Surname\n9990000018,Łoś\n9990000026,Ren'), BAD, utf8('e\n9990000034,Kociński\n')]));
    expect(await detectEncoding(file)).toEqual({ encoding: 'utf-8', bom: false });
  });

  it('reads a file with bad bytes and no valid multi-byte character as Windows-1252', async () => {
    expect(await detectEncoding(await fileOf(iconv.encode('NHS Number,Surname\n9990000018,Zoë\n', 'win1252')))).toEqual({ encoding: 'windows-1252', bom: false });
  });

  it('reads a file with more bad bytes than UTF-8 characters as Windows-1252', async () => {
    const file = await fileOf(Buffer.concat([utf8('a,b\nŁ,x\n'), BAD, utf8(','), BAD, utf8('\n')]));
    expect((await detectEncoding(file)).encoding).toBe('windows-1252');
  });

  it('reads pure ASCII as UTF-8', async () => {
    expect((await detectEncoding(await fileOf(utf8('NHS Number,DOB\n9990000018,2001-01-01\n')))).encoding).toBe('utf-8');
  });
});

describe('rows with bytes that are not UTF-8', () => {
  it('are invalid_encoding naming the column, never the value, and counted in the layout warnings', async () => {
    const file = await fileOf(
      Buffer.concat([utf8('NHS Number,Surname,Forename,DOB\n9990000018,Łoś,Ewa,2001-01-01\n9990000026,Ren'), BAD, utf8('e,Ann,2001-01-02\n9990000034,Kociński,Jan,2001-01-03\n')]),
    );
    const input = await openInput(file, { today: new Date(2025, 5, 30) });
    const rows: InputRow[] = [];
    for await (const row of input.rows) rows.push(row);
    expect(input.layout.encoding).toBe('utf-8');
    expect(rows.map((r) => r.problem?.reason)).toEqual([undefined, 'invalid_encoding', undefined]);
    expect(rows[1]!.problem!.message).toContain('column "Surname"');
    expect(rows[1]!.problem!.message).not.toMatch(/Ren|9990000026/);
    expect(rows[1]!.cells).toEqual(['9990000026', 'Ren\uFFFDe', 'Ann', '2001-01-02']);
    expect(rows[2]!.query?.familyName).toBe('Kociński');
    expect(input.layout.warnings).toContain('1 row had bytes that are not UTF-8 (invalid_encoding); the rest of the file was read as UTF-8');
  });

  test.prop([fc.array(fc.nat({ max: 80 }), { maxLength: 5 })])('are found wherever the chunks are cut, and only those rows', async (cuts) => {
    const bytes = Buffer.concat([utf8('a,b\nŁoś,1\nRen'), BAD, utf8('e,2\n"q\uFFFD",3\nx,'), Buffer.from([0xc5]), utf8('\n')]);
    async function* chunks() {
      let from = 0;
      for (const cut of [...cuts].map((c) => Math.min(c, bytes.length)).sort((a, b) => a - b)) {
        yield bytes.subarray(from, cut);
        from = cut;
      }
      yield bytes.subarray(from);
    }
    const flags: boolean[] = [];
    for await (const record of readRecords(chunks(), { delimiter: ',', recordDelimiters: ['\n'], maxRecordBytes: 1024 })) flags.push(record.invalidUtf8 === true);
    expect(flags).toEqual([false, false, true, false, true]);
  });
});
