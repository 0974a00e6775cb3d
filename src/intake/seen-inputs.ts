import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { withFileLock } from '../audit/file-lock.js';
import { writeFileAtomic } from '../csv/output/atomic-file.js';

/**
 * The intake's memory of the input bytes it has made batches from, for the duplicate check: one
 * owner-only file per distinct input under `<dataDir>/intake/seen/`, named by the input's SHA-256
 * and listing every batch made from those bytes, oldest first. It lives in the data folder, not
 * in Redis, so it survives an empty Redis and serves the embedded runner alike. No patient data:
 * a hash, batch ids and times.
 *
 * Each file is rewritten whole (write-then-rename, never half written) under a lock file of its
 * own (O_EXCL create, src/audit/file-lock.ts), so two processes submitting the same bytes at once
 * check and record one after the other; different inputs never wait for each other.
 */

export interface SeenSubmission {
  batchId: string;
  /** ISO 8601 UTC: when the batch was submitted. */
  submittedAt: string;
}

interface SeenFile {
  sha256: string;
  submissions: SeenSubmission[];
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function seenFolder(dataDir: string): string {
  return path.join(dataDir, 'intake', 'seen');
}

function seenFile(dataDir: string, sha256: string): string {
  // The name comes from our own hash, but a path is never built from an unchecked string.
  if (!SHA256_HEX.test(sha256)) throw new Error(`not a SHA-256 in hex: ${sha256.slice(0, 80)}`);
  return path.join(seenFolder(dataDir), `${sha256}.json`);
}

/** Every batch recorded for these bytes, oldest first; none when they were never seen. */
export async function readSeen(dataDir: string, sha256: string): Promise<SeenSubmission[]> {
  try {
    const parsed = JSON.parse(await readFile(seenFile(dataDir, sha256), 'utf8')) as SeenFile;
    return parsed.submissions;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Adds a batch to the memory of its bytes. Call it holding `withSeenLock` for the same hash. */
export async function recordSeen(dataDir: string, sha256: string, submission: SeenSubmission): Promise<void> {
  const submissions = [...(await readSeen(dataDir, sha256)), submission];
  const content: SeenFile = { sha256, submissions };
  await writeFileAtomic(seenFile(dataDir, sha256), `${JSON.stringify(content, null, 2)}\n`);
}

/** Runs `fn` as the only process checking and recording these bytes. */
export async function withSeenLock<T>(dataDir: string, sha256: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(seenFolder(dataDir), { recursive: true, mode: 0o700 });
  return withFileLock(`${seenFile(dataDir, sha256)}.lock`, fn);
}
