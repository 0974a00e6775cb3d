import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OWNER_ONLY_MODE } from '../csv/output/atomic-file.js';
import { InputChangedError } from './input-changed-error.js';

/**
 * The batch's own copy of its input: made once at submission, hashed as it is copied, and checked
 * against that hash before every stage reads it. Both stream, so memory stays flat in the file's
 * size (ARCHITECTURE property 5).
 */

export interface CopiedInput {
  sha256: string;
  bytes: number;
}

/**
 * Copies `source` to a new owner-only file `dest`, hashing the bytes on their way through: one
 * read, so the hash is of exactly what was copied, even if `source` changes meanwhile.
 */
export async function copyInputHashing(source: string, dest: string): Promise<CopiedInput> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  // `wx`: never write through a file (or link) that is already there.
  await pipeline(createReadStream(source), tap, createWriteStream(dest, { flags: 'wx', mode: OWNER_ONLY_MODE }));
  // Durable before batch.json names it: a power cut must not leave a batch with half a copy.
  const handle = await open(dest, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Throws InputChangedError unless `file` still holds the bytes recorded for batch `batchId`: the
 * size first (free), then one streaming pass of SHA-256. A missing file has changed too.
 */
export async function checkInputUnchanged(file: string, expected: { batchId: string; sha256: string; bytes?: number }): Promise<void> {
  try {
    if (expected.bytes !== undefined && (await stat(file)).size !== expected.bytes) throw new InputChangedError(expected.batchId);
    if ((await sha256File(file)) !== expected.sha256) throw new InputChangedError(expected.batchId);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InputChangedError(expected.batchId);
    throw err;
  }
}
