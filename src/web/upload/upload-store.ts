import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic } from '../../csv/output/atomic-file.js';

/**
 * Uploaded files waiting for their person to check the preview and trace them (or cancel):
 *
 *   <dataDir>/web/uploads/<uploadId>/upload.json   who uploaded what, when, and the column choices
 *   <dataDir>/web/uploads/<uploadId>/file/<name>   the file as uploaded (patient data: owner-only)
 *   <dataDir>/web/uploads/<uploadId>/preview.json  the check's counts (no patient data)
 *   <dataDir>/web/uploads/<uploadId>/problems.csv  every row problem, by row and column
 *
 * A file is streamed to disk as it arrives, never held in memory, into a folder that only becomes
 * an upload once the file is complete: an upload cut off half-way, or over the size limit, leaves
 * nothing behind. The id is 128 random bits: it names nothing about the file or its patients, and
 * cannot be guessed; even so every read checks the owner.
 */

const UPLOAD_ID = /^[A-Za-z0-9_-]{22}$/;

/** Column index (0-based) per field, as the person chose them on the preview page. */
export type ColumnChoice = Record<string, number>;

export interface UploadRecord {
  id: string;
  /** The user id of whoever uploaded it: nobody else sees it. */
  owner: string;
  /** The file's name as uploaded, made safe for a file system (the batch's outputs are named after it). */
  fileName: string;
  bytes: number;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** Columns chosen on the preview page; absent: the columns as the file's header names them. */
  columns?: ColumnChoice;
  /** A mapping file uploaded with the file (`--mapping` text), when one was. */
  mappingText?: string;
  /** Read ambiguous dates such as 03/04/2001 day first (UK). */
  dayFirst: boolean;
}

/** The upload is larger than PDS_TRACE_WEB_UPLOAD_MAX_MB; it was cut off and removed. */
export class UploadTooLargeError extends Error {
  override readonly name = 'UploadTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`the file is larger than this service takes (${Math.round(maxBytes / 1024 / 1024)} MB)`);
  }
}

/** Up to 100 characters of letters, digits, `.`, `-`, `_` and spaces: no folders, nothing hidden. */
export function safeFileName(given: string | undefined): string {
  const base = path.basename((given ?? '').replace(/\\/g, '/')).replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^[.\s]+/, '').slice(-100);
  return base === '' ? 'upload.csv' : base;
}

export class UploadStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'web', 'uploads');
  }

  dir(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error('not an upload id');
    return path.join(this.root, id);
  }

  file(record: Pick<UploadRecord, 'id' | 'fileName'>): string {
    return path.join(this.dir(record.id), 'file', record.fileName);
  }

  previewPath(id: string): string {
    return path.join(this.dir(id), 'preview.json');
  }

  problemsPath(id: string): string {
    return path.join(this.dir(id), 'problems.csv');
  }

  /**
   * Streams `content` to disk as a new upload of `owner`'s, up to `maxBytes`; `truncated` tells
   * whether the source stopped at the limit (multipart's `file.truncated`). Anything short of a
   * complete file within the limit removes what was written and throws.
   */
  async receive(owner: string, fileName: string | undefined, content: Readable, options: { maxBytes: number; truncated: () => boolean; dayFirst?: boolean; now?: Date }): Promise<UploadRecord> {
    const id = randomBytes(16).toString('base64url');
    const dir = this.dir(id);
    const name = safeFileName(fileName);
    await mkdir(path.join(dir, 'file'), { recursive: true, mode: 0o700 });
    try {
      const target = path.join(dir, 'file', name);
      await pipeline(content, createWriteStream(target, { flags: 'wx', mode: 0o600 }));
      if (options.truncated()) throw new UploadTooLargeError(options.maxBytes);
      const record: UploadRecord = { id, owner, fileName: name, bytes: (await stat(target)).size, createdAt: (options.now ?? new Date()).toISOString(), dayFirst: options.dayFirst ?? true };
      await this.save(record);
      return record;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async save(record: UploadRecord): Promise<void> {
    await writeFileAtomic(path.join(this.dir(record.id), 'upload.json'), `${JSON.stringify(record)}\n`);
  }

  /** `owner`'s upload, or undefined for anyone else's, a removed one or an id that is none. */
  async get(id: string, owner: string): Promise<UploadRecord | undefined> {
    if (!UPLOAD_ID.test(id)) return undefined;
    try {
      const record = JSON.parse(await readFile(path.join(this.dir(id), 'upload.json'), 'utf8')) as UploadRecord;
      return record.owner === owner && record.id === id ? record : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /**
   * Removes uploads older than `maxAgeMs` (nobody came back to trace or cancel them), and folders
   * of uploads that never completed (a server stopped mid-upload). Returns how many went.
   */
  async sweep(maxAgeMs: number, now = Date.now()): Promise<number> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      if (!UPLOAD_ID.test(name)) continue;
      const info = await stat(path.join(this.root, name)).catch(() => undefined);
      if (!info || now - info.mtimeMs <= maxAgeMs) continue;
      await this.remove(name);
      removed++;
    }
    return removed;
  }
}
