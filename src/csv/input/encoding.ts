/**
 * Which character encoding a file uses, and a stream of its text re-encoded as UTF-8 for csv-parse.
 *
 * Files arrive from Excel (UTF-8 with a BOM on Mac, the ANSI code page Windows-1252 on Windows),
 * from PAS exports and from PDS MESH samples that start with a BOM (batch-formats.md §3.3, §6.7).
 * Node's own TextDecoder('windows-1252') decodes 0x80–0x9F as Latin-1 control characters on Node 20
 * (ecosystem.md §4.1), so Windows-1252 goes through iconv-lite, which maps them to € ‘ ’ “ ” etc.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import iconv from 'iconv-lite';
import type { TextEncoding } from './types.js';
import { Utf8Tally, type Utf8Counts } from './utf8-tally.js';

export interface DetectedEncoding {
  encoding: TextEncoding;
  bom: boolean;
}

const CHUNK_BYTES = 64 * 1024;
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * BOM first; then the NUL pattern of BOM-less UTF-16; then UTF-8 or Windows-1252 from the whole
 * file's bytes. A file is UTF-8 when it is pure ASCII, or when it holds at least one valid multi-byte
 * character and more of them than invalid sequences: a UTF-8 export with a few stray bytes (a
 * Windows-1252 é pasted into one cell) stays UTF-8, so every other name with é or ł reads right and
 * only the rows holding the bad bytes are invalid_encoding (record-reader.ts). A file with no
 * valid multi-byte character and some invalid bytes is Windows-1252, as genuine ones are.
 */
export async function detectEncoding(file: string): Promise<DetectedEncoding> {
  const marked = await encodingFromHead(file);
  if (marked) return marked;
  // The whole file, not a sample: feeds that look ASCII often hide Windows-1252 further down
  // (UK Renal Registry feed notes, batch-formats.md §6.7).
  const { multiByte, invalid } = await countUtf8(file);
  const utf8 = invalid === 0 || (multiByte > 0 && multiByte > invalid);
  return { encoding: utf8 ? 'utf-8' : 'windows-1252', bom: false };
}

/**
 * What the first bytes alone tell: a BOM, or UTF-16's NULs. Null when only the whole file can tell
 * UTF-8 from Windows-1252; both keep delimiters and line breaks as the same ASCII bytes, so a
 * caller that only needs record boundaries may read such a file as UTF-8.
 */
export async function encodingFromHead(file: string): Promise<DetectedEncoding | null> {
  const head = await readHead(file, 4096);
  if (startsWith(head, UTF8_BOM)) return { encoding: 'utf-8', bom: true };
  if (startsWith(head, [0xff, 0xfe])) return { encoding: 'utf-16le', bom: true };
  if (startsWith(head, [0xfe, 0xff])) return { encoding: 'utf-16be', bom: true };
  const utf16 = utf16WithoutBom(head);
  return utf16 ? { encoding: utf16, bom: false } : null;
}

/**
 * The file's text as UTF-8 buffers, BOM removed, chunk by chunk (memory stays flat). UTF-8 input
 * passes through untouched so csv-parse's byte offsets match the file's.
 */
export async function* utf8Chunks(file: string, detected: DetectedEncoding): AsyncGenerator<Buffer> {
  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  try {
    if (detected.encoding === 'utf-8') {
      let first = true;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const bytes = first && detected.bom ? chunk.subarray(UTF8_BOM.length) : chunk;
        first = false;
        if (bytes.length > 0) yield bytes;
      }
      return;
    }
    // iconv-lite strips a leading BOM itself (stripBOM defaults to true) and carries split
    // multi-byte sequences and surrogate pairs across chunks.
    const decoder = iconv.getDecoder(detected.encoding);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.write(chunk);
      if (text.length > 0) yield Buffer.from(text, 'utf8');
    }
    const rest = decoder.end();
    if (rest) yield Buffer.from(rest, 'utf8');
  } finally {
    stream.destroy();
  }
}

/** The first `maxBytes` of the file decoded as text, for dialect sniffing. */
export async function readTextSample(file: string, detected: DetectedEncoding, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  const parts: Buffer[] = [];
  let length = 0;
  let complete = true;
  for await (const chunk of utf8Chunks(file, detected)) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= maxBytes) {
      complete = false;
      break;
    }
  }
  // A multi-byte character cut at the end decodes as U+FFFD; the sniffer only counts delimiters.
  return { text: Buffer.concat(parts).subarray(0, maxBytes).toString('utf8'), complete };
}

/** The first `bytes` of a file (fewer when it is shorter). */
export async function readHead(file: string, bytes: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function startsWith(buffer: Buffer, prefix: readonly number[]): boolean {
  return prefix.every((byte, i) => buffer[i] === byte);
}

/**
 * Text in UTF-16 without a BOM has a NUL in every other byte for ASCII characters; a CSV of
 * demographics is mostly ASCII, so a clear majority of NULs on one side settles it.
 */
function utf16WithoutBom(head: Buffer): TextEncoding | null {
  const pairs = Math.floor(head.length / 2);
  if (pairs < 2) return null;
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (head[i] === 0) evenNuls++;
    if (head[i + 1] === 0) oddNuls++;
  }
  if (oddNuls > pairs * 0.6 && evenNuls < pairs * 0.1) return 'utf-16le';
  if (evenNuls > pairs * 0.6 && oddNuls < pairs * 0.1) return 'utf-16be';
  return null;
}

async function countUtf8(file: string): Promise<Utf8Counts> {
  const tally = new Utf8Tally();
  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) tally.add(chunk);
    return tally.end();
  } finally {
    stream.destroy();
  }
}
