import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Session } from 'fastify';
import { writeFileAtomic } from '../csv/output/atomic-file.js';

/**
 * Where web sessions live so that they survive a restart of `pds-trace serve`: one owner-only file
 * per session under `<dataDir>/web/sessions/`, named by a SHA-256 of the session id, so a listing
 * of the folder (a backup, an operator) gives no cookie that could be replayed. The cookie-signing
 * key is kept beside it (`<dataDir>/web/session-key`, owner-only), made once on first start.
 *
 * A session file holds who is signed in and the CSRF secret: no patient data.
 */

const SESSION_ID = /^[A-Za-z0-9_-]{16,128}$/;

export function webDir(dataDir: string): string {
  return path.join(dataDir, 'web');
}

/** The key that signs session cookies: read from the data folder, made there on first use. */
export async function sessionKey(dataDir: string): Promise<string> {
  const file = path.join(webDir(dataDir), 'session-key');
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length >= 32) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(webDir(dataDir), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64url');
  await writeFileAtomic(file, `${key}\n`);
  return key;
}

type Callback<T = void> = (err?: Error | null, value?: T) => void;

/** The callback store @fastify/session asks for, over owner-only files. */
export class FileSessionStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(webDir(dataDir), 'sessions');
  }

  #file(sessionId: string): string {
    // Ids come from the signed cookie, so they are ours; checked anyway before they name a file.
    if (!SESSION_ID.test(sessionId)) throw new Error('malformed session id');
    return path.join(this.dir, `${createHash('sha256').update(sessionId).digest('hex')}.json`);
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const write = async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.#file(sessionId), JSON.stringify(session));
    };
    write().then(() => callback(null), callback);
  }

  get(sessionId: string, callback: (err: Error | null, session?: Session | null) => void): void {
    const read = async () => {
      try {
        return JSON.parse(await readFile(this.#file(sessionId), 'utf8')) as Session;
      } catch (err) {
        // Gone (signed out, swept) or unreadable: no session, so the user signs in again.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined;
        throw err;
      }
    };
    read().then((session) => callback(null, session ?? null), (err: Error) => callback(err));
  }

  destroy(sessionId: string, callback: Callback): void {
    rm(this.#file(sessionId), { force: true }).then(() => callback(null), callback);
  }

  /** Removes sessions untouched for longer than `idleMs`: they can no longer be used. */
  async sweep(idleMs: number, now = Date.now()): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs > idleMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
