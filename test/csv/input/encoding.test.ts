import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectEncoding, utf8Chunks } from '../../../src/csv/input/encoding.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pds-trace-encoding-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function decode(bytes: Buffer) {
  const file = path.join(dir, `f${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(file, bytes);
  const detected = await detectEncoding(file);
  const parts: Buffer[] = [];
  for await (const chunk of utf8Chunks(file, detected)) parts.push(chunk);
  return { ...detected, text: Buffer.concat(parts).toString('utf8') };
}

describe('encoding detection and transcoding', () => {
  it('reads UTF-8 with a BOM and drops the BOM', async () => {
    expect(await decode(Buffer.from('\uFEFFNHS,Zoë\n'))).toEqual({ encoding: 'utf-8', bom: true, text: 'NHS,Zoë\n' });
  });

  it('reads UTF-16LE and UTF-16BE with a BOM', async () => {
    expect(await decode(iconv.encode('Kociński,Ødegård\n', 'utf16le', { addBOM: true }))).toEqual({ encoding: 'utf-16le', bom: true, text: 'Kociński,Ødegård\n' });
    expect(await decode(iconv.encode('Kociński,Ødegård\n', 'utf16be', { addBOM: true }))).toEqual({ encoding: 'utf-16be', bom: true, text: 'Kociński,Ødegård\n' });
  });

  it('decodes every Windows-1252 character in 0x80–0x9F as Windows-1252, not Latin-1 controls', async () => {
    const text = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
    expect(await decode(iconv.encode(`name\n${text}\n`, 'win1252'))).toEqual({ encoding: 'windows-1252', bom: false, text: `name\n${text}\n` });
  });

  it('checks the whole file, so one Windows-1252 byte after 200 KiB of ASCII still decides', async () => {
    const result = await decode(Buffer.concat([Buffer.from('a,b\n'.repeat(50_000)), Buffer.from([0x93, 0x78, 0x94, 0x0a])]));
    expect(result.encoding).toBe('windows-1252');
    expect(result.text.endsWith('“x”\n')).toBe(true);
  });

  it('keeps multi-byte UTF-8 characters split across read chunks intact', async () => {
    const text = 'é'.repeat(70_000) + '\n';
    const result = await decode(Buffer.from(text));
    expect(result.encoding).toBe('utf-8');
    expect(result.text).toBe(text);
  });

  it('recognises UTF-16LE without a BOM by its NUL bytes', async () => {
    expect(await decode(iconv.encode('NHS,DOB\n1,2\n', 'utf16le'))).toEqual({ encoding: 'utf-16le', bom: false, text: 'NHS,DOB\n1,2\n' });
  });

  it('treats an empty file as UTF-8', async () => {
    expect(await decode(Buffer.alloc(0))).toEqual({ encoding: 'utf-8', bom: false, text: '' });
  });
});
