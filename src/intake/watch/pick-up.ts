import { lstat, readdir, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isIgnoredName } from '../partial-files.js';

/**
 * Which files in `inbox/` a watcher takes, and when: never a file still being written. Writers
 * that announce themselves by name are skipped outright (dotfiles, `*.part`, `*.tmp`,
 * `*.crdownload` of browsers, Excel's `~$*` lock files); any other file is taken only once its size
 * and modification time have stayed the same for `stableMs`, since a slow writer (a network copy,
 * an export writing in pieces) gives no other sign of being done.
 */

export { isIgnoredName } from '../partial-files.js';

interface Sighting {
  size: number;
  mtimeMs: number;
  /** When this size and modification time were first seen. */
  since: number;
}

/** Remembers what each inbox file looked like, to tell a finished file from one being written. */
export class StableFiles {
  private readonly seen = new Map<string, Sighting>();

  constructor(private readonly stableMs: number) {}

  /**
   * Names in `inbox` that are complete now, and whether any other file is still settling (so the
   * caller looks again after `stableMs` even if no file event comes).
   */
  async scan(inbox: string, now = Date.now()): Promise<{ ready: string[]; settling: boolean }> {
    const names = await readdir(inbox).catch(() => [] as string[]);
    const ready: string[] = [];
    let settling = false;
    const present = new Set<string>();
    for (const name of names) {
      if (isIgnoredName(name)) continue;
      const info = await lstat(path.join(inbox, name)).catch(() => undefined);
      // Folders and links are no one's export: a link could point anywhere.
      if (!info?.isFile()) continue;
      present.add(name);
      const before = this.seen.get(name);
      if (!before || before.size !== info.size || before.mtimeMs !== info.mtimeMs) {
        this.seen.set(name, { size: info.size, mtimeMs: info.mtimeMs, since: now });
        settling = true;
      } else if (now - before.since >= this.stableMs) {
        ready.push(name);
      } else {
        settling = true;
      }
    }
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);
    return { ready: ready.sort(), settling };
  }

  forget(name: string): void {
    this.seen.delete(name);
  }
}

/**
 * Claims `inbox/<name>` by renaming it into `processing/` under a name that sorts by time and is
 * never used twice (`<UTC time>-<random>-<name>`), so outputs named after it never overwrite an
 * earlier run's. Of several watchers renaming the same file, exactly one succeeds; the others find
 * it gone and get undefined.
 */
export async function claimFile(inbox: string, processing: string, name: string, now = new Date()): Promise<string | undefined> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const claimed = path.join(processing, `${stamp}-${randomBytes(3).toString('hex')}-${name}`);
  try {
    await rename(path.join(inbox, name), claimed);
    return claimed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
