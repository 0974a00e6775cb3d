import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { RecordDelimiter } from '../../../src/csv/input/dialect.js';
import { readRecords, type RawRecord } from '../../../src/csv/input/record-reader.js';

async function* chunked(bytes: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut > from && cut < bytes.length) {
      yield bytes.subarray(from, cut);
      from = cut;
    }
  }
  if (from < bytes.length) yield bytes.subarray(from);
}

async function read(text: string, cuts: number[] = [], maxRecordBytes = 1024, recordDelimiters: RecordDelimiter[] = ['\r\n', '\n', '\r']): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const record of readRecords(chunked(Buffer.from(text), cuts), { delimiter: ',', recordDelimiters, maxRecordBytes })) out.push(record);
  return out;
}

describe('readRecords', () => {
  it('numbers records by the physical line they start on, across blank lines and multi-line cells', async () => {
    const records = await read('h1,h2\r\n\r\na,"x\r\ny"\r\n\nb,c\r\n');
    expect(records).toEqual([
      { cells: ['h1', 'h2'], line: 1 },
      { cells: ['a', 'x\r\ny'], line: 3 },
      { cells: ['b', 'c'], line: 6 },
    ]);
  });

  it('skips records whose cells are all blank', async () => {
    expect((await read('a,b\n,\n , \n1,2\n')).map((r) => r.line)).toEqual([1, 4]);
  });

  it('turns an unclosed quote at the end into one malformed record and reads the lines after it', async () => {
    expect(await read('a,b\n1,"x\n2,y\n')).toEqual([
      { cells: ['a', 'b'], line: 1 },
      { cells: ['1,"x'], line: 2, malformed: 'unclosed_quote' },
      { cells: ['2', 'y'], line: 3 },
    ]);
  });

  it('stops a record at the maximum size and resumes on the next line', async () => {
    const rest = Array.from({ length: 20 }, (_, i) => `r${i},v`).join('\n');
    const records = await read(`a,b\n1,"open\n${rest}\n`, [], 64);
    expect(records[1]).toEqual({ cells: ['1,"open'], line: 2, malformed: 'record_too_large' });
    expect(records.slice(2).map((r) => r.cells[0])).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect(records.at(-1)!.line).toBe(22);
  });

  it('keeps only the first maxRecordBytes of an over-long line with no line break', async () => {
    const records = await read(`a,b\n${'x'.repeat(5000)}\n1,2\n`, [100, 1000, 2000, 3000], 64);
    expect(records[1]!.malformed).toBe('record_too_large');
    expect(records[1]!.cells[0]!.length).toBe(64);
    expect(records[2]).toEqual({ cells: ['1', '2'], line: 3 });
  });

  it('keeps line breaks that are not the record delimiter inside cells, still counting physical lines', async () => {
    expect(await read('a,b\r\nx\ny,z\r\n1,2\r\n', [], 1024, ['\r\n'])).toEqual([
      { cells: ['a', 'b'], line: 1 },
      { cells: ['x\ny', 'z'], line: 2 },
      { cells: ['1', '2'], line: 4 },
    ]);
  });

  test.prop([fc.array(fc.nat({ max: 200 }), { maxLength: 12 })])('gives the same records however the bytes are split into chunks', async (cuts) => {
    const text = 'h1,h2\r\n"a\r\nb",é\rc,"d""e"\n\n,\n"unclosed,\nlast,ü\r\n';
    expect(await read(text, cuts)).toEqual(await read(text));
  });
});
