import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A lock file held by one process at a time, so two processes on this machine never interleave a
 * read-modify-write (the audit chain's head, the user store).
 *
 * Acquiring creates the file with O_EXCL (`wx`), which the kernel makes atomic; the file names its
 * holder (host, pid, a random token). A holder that died without releasing leaves the file behind:
 * when its pid is gone on this host, the next process renames the file aside (only one renamer
 * wins) and retries.
 *
 * Limits, by design (single-machine use): the stale check only works for holders on this host, so
 * the data folder must not be shared between machines over a network file system — use the
 * PostgreSQL audit store for that; a pid reused by an unrelated process keeps a dead holder's lock
 * until the timeout, and the message names the file to remove by hand.
 */

export interface FileLockOptions {
  /** Give up after this long, in milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** First wait between attempts, doubling up to 50 ms. Default 5. */
  pollMs?: number;
}

export interface FileLock {
  readonly path: string;
  /** Removes the lock file if it is still this holder's. Safe to call twice. */
  release(): Promise<void>;
}

/** The lock stayed taken for the whole timeout. */
export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
  constructor(
    readonly lockPath: string,
    readonly holderPid: number | undefined,
    readonly timeoutMs: number,
  ) {
    super(
      `${lockPath} is held${holderPid === undefined ? '' : ` by process ${holderPid}`} after ${timeoutMs} ms; ` +
        'if no pds-trace process is running, remove the file',
    );
  }
}

interface Holder {
  host: string;
  pid: number;
  token: string;
}

/** A lock file older than this with no readable holder was left by a crash between create and write. */
const UNREADABLE_STALE_MS = 10_000;

async function readHolder(lockPath: string): Promise<Holder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<Holder>;
    if (typeof parsed.host === 'string' && typeof parsed.pid === 'number' && typeof parsed.token === 'string') return parsed as Holder;
  } catch {
    // Missing, half-written or not ours: the caller decides from the file's age.
  }
  return undefined;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(lockPath: string, holder: Holder | undefined): Promise<boolean> {
  if (holder) return holder.host === os.hostname() && !processAlive(holder.pid);
  const info = await stat(lockPath).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > UNREADABLE_STALE_MS;
}

/** Moves a dead holder's file aside; puts it back if a live holder replaced it meanwhile. */
async function breakStaleLock(lockPath: string, stale: Holder | undefined): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readHolder(aside);
  if (stale && moved && moved.token !== stale.token) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

async function tryCreate(lockPath: string, holder: Holder): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(holder));
  } finally {
    await handle.close();
  }
  return true;
}

export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<FileLock> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let wait = options.pollMs ?? 5;
  const holder: Holder = { host: os.hostname(), pid: process.pid, token: randomBytes(12).toString('hex') };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await tryCreate(lockPath, holder)) break;
    const current = await readHolder(lockPath);
    if (await isStale(lockPath, current)) {
      await breakStaleLock(lockPath, current);
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(lockPath, current?.pid, timeoutMs);
    await sleep(wait);
    wait = Math.min(wait * 2, 50);
  }
  let released = false;
  return {
    path: lockPath,
    async release() {
      if (released) return;
      released = true;
      const current = await readHolder(lockPath);
      if (current?.token === holder.token) await unlink(lockPath).catch(() => undefined);
    },
  };
}

/** Runs `fn` holding the lock, and releases it however `fn` ends. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lock = await acquireFileLock(lockPath, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
