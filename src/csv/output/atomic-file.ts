import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * Output files appear complete or not at all (ARCHITECTURE "assemble": each file appears complete
 * or not at all; a crash never leaves a half-written result that looks finished).
 *
 * The data goes to `<final>.<random>.part` in the same folder (so the rename stays on one file
 * system and is atomic), created owner-only because every output holds patient data. Commit ends
 * the stream, fsyncs the file (`flush`), renames it over the final name and fsyncs the folder so
 * the rename itself survives a power cut. A random part name, not a fixed `.part`, keeps two
 * writers of the same output (a job re-run while the stalled original still runs) from
 * interleaving their bytes in one file: the last commit wins whole.
 */

/** Owner read/write only: outputs hold patient data (MSCA IG; peers-and-governance.md §4). */
export const OWNER_ONLY_MODE = 0o600;

export interface AtomicFileOptions {
  /** Permission bits of the final file. Default 0o600 (owner-only). */
  mode?: number;
}

export interface AtomicFile {
  /** Where the bytes go until commit. */
  readonly stream: Writable;
  readonly finalPath: string;
  /** The `.part` file being written; gone after commit or abort. */
  readonly partPath: string;
  /** End the stream, fsync, rename `.part` → final, fsync the folder. Rejects (and cleans up) on a write error. */
  commit(): Promise<void>;
  /** Discard everything written: no file appears under the final name. Safe to call more than once. */
  abort(): Promise<void>;
}

export type AtomicFileState = 'open' | 'committed' | 'aborted';

/** Commit after abort (or a failed commit): the caller lost track of the file's state. */
export class AtomicFileError extends Error {
  override readonly name = 'AtomicFileError';
  constructor(
    message: string,
    readonly file: string,
    readonly state: AtomicFileState,
  ) {
    super(message);
  }
}

function partPathFor(finalPath: string): string {
  return `${finalPath}.${randomBytes(6).toString('hex')}.part`;
}

async function streamClosed(stream: WriteStream): Promise<void> {
  if (!stream.closed) await once(stream, 'close').catch(() => undefined);
}

async function removeIfPresent(file: string): Promise<void> {
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Makes a rename durable. Some platforms cannot fsync a directory; the rename is still atomic there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}

export async function openAtomicFile(finalPath: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
  const mode = options.mode ?? OWNER_ONLY_MODE;
  const partPath = partPathFor(finalPath);
  // 'wx': never reuse (or follow a link planted at) an existing name.
  const handle = await open(partPath, 'wx', mode);
  try {
    // open()'s mode is filtered by the umask; set the bits exactly.
    await handle.chmod(mode);
  } catch (err) {
    await handle.close();
    await removeIfPresent(partPath);
    throw err;
  }
  // flush: fsync before the descriptor closes, so the renamed file has its bytes on disk.
  const stream = createWriteStream('', { fd: handle, flush: true });
  // A write error is reported by commit(); without a listener it would crash the process.
  stream.on('error', () => undefined);
  let state: AtomicFileState = 'open';

  async function discard(): Promise<void> {
    stream.destroy();
    await streamClosed(stream);
    await removeIfPresent(partPath);
  }

  return {
    stream,
    finalPath,
    partPath,
    async commit() {
      if (state !== 'open') throw new AtomicFileError(`cannot commit ${path.basename(finalPath)}: the file is ${state}`, finalPath, state);
      state = 'committed';
      try {
        if (!stream.writableEnded) stream.end();
        await finished(stream);
        await streamClosed(stream);
        await rename(partPath, finalPath);
      } catch (err) {
        state = 'aborted';
        await discard();
        throw err;
      }
      await syncDirectory(path.dirname(finalPath));
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await discard();
    },
  };
}

/** Writes a whole file atomically with the same guarantees as {@link openAtomicFile}. */
export async function writeFileAtomic(finalPath: string, data: string | Buffer, options: AtomicFileOptions = {}): Promise<void> {
  const file = await openAtomicFile(finalPath, options);
  file.stream.end(data);
  await file.commit();
}
