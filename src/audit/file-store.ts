import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import { writeAuditCsv } from './csv-export.js';
import { fileStoreUsedBefore } from './earlier-use.js';
import { normaliseNewEvent, parseStoredEvent, type AuditEvent, type NewAuditEvent } from './event.js';
import { withFileLock } from './file-lock.js';
import { ChainVerifier, chainEvents, EMPTY_HEAD, explainMovedEvent, type ChainHead, type VerifyResult } from './hash-chain.js';
import { matchesFilter, type AuditFilter, type AuditStore, type VerifyOptions } from './store.js';

/**
 * The append-only file audit store, for single-machine use (ecosystem.md §8.3):
 * - `events.jsonl`: one event per line, only ever opened with O_APPEND, fsynced before `append`
 *   resolves;
 * - `anchor.json`: the head (seq + hash), rewritten atomically after each append, so cutting lines
 *   off the end is detected;
 * - `writer.lock`: held across read-head → append → re-anchor, so two processes on this machine
 *   cannot both chain onto the same head.
 *
 * An append chains only onto the anchored head: a file cut short, a missing anchor, an anchor that
 * does not match the last event, or a store missing from a data folder that used it before
 * (earlier-use.ts) make it refuse with {@link AuditStoreCorruptError}, so nothing is ever
 * chained onto a tampered trail and re-anchored as if it were whole.
 *
 * Limits: the lock is a local file lock (see file-lock.ts), so the folder must not be shared by
 * several machines — use the PostgreSQL store for that. Anyone who can write these files can
 * rewrite chain and anchor together; compare with heads kept elsewhere (batch summaries, `audit
 * verify --witnesses`, `--expect-head`) or use PostgreSQL, where the application role cannot change
 * rows at all.
 */

export const EVENTS_FILE = 'events.jsonl';
export const ANCHOR_FILE = 'anchor.json';
export const LOCK_FILE = 'writer.lock';

/** The store cannot be appended to safely as it stands; `audit verify` says why. */
export class AuditStoreCorruptError extends Error {
  override readonly name = 'AuditStoreCorruptError';
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(
      `audit store ${location}: ${reason}; nothing was appended. Run \`pds-trace audit verify\`, restore the audit folder from backup ` +
        'and report it to the information governance lead; pds-trace will not record anything until then',
    );
  }
}

export interface FileAuditStoreOptions {
  /** How long an append waits for another process's append, in milliseconds. Default 10 000. */
  lockTimeoutMs?: number;
  /**
   * The data folder the store belongs to: when it shows the store was used before (earlier-use.ts),
   * a missing store was deleted and must not be started afresh. Unset: a store on its own (tests).
   */
  dataDir?: string;
}

/** Lines are a few hundred bytes (detail is capped at 2 KB): the tail read always holds the last whole one. */
const TAIL_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

class FileAuditStore implements AuditStore {
  readonly location: string;
  readonly #eventsPath: string;
  readonly #anchorPath: string;
  readonly #lockPath: string;
  readonly #lockTimeoutMs: number | undefined;
  readonly #dataDir: string | undefined;

  constructor(dir: string, options: FileAuditStoreOptions) {
    this.location = dir;
    this.#eventsPath = path.join(dir, EVENTS_FILE);
    this.#anchorPath = path.join(dir, ANCHOR_FILE);
    this.#lockPath = path.join(dir, LOCK_FILE);
    this.#lockTimeoutMs = options.lockTimeoutMs;
    this.#dataDir = options.dataDir;
  }

  async append(events: readonly NewAuditEvent[]): Promise<AuditEvent[]> {
    if (events.length === 0) return [];
    const normalised = events.map(normaliseNewEvent);
    return withFileLock(
      this.#lockPath,
      async () => {
        const head = await this.#anchoredHead();
        if (head === 'new') await this.#startChain();
        const chained = chainEvents(head === 'new' ? EMPTY_HEAD : head, normalised);
        const handle = await open(this.#eventsPath, 'a', 0o600);
        try {
          await handle.writeFile(chained.map((e) => `${JSON.stringify(e)}\n`).join(''));
          await handle.sync();
        } finally {
          await handle.close();
        }
        const last = chained[chained.length - 1]!;
        await this.#writeAnchor({ seq: last.seq, hash: last.hash });
        return chained;
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
  }

  currentHead(): Promise<ChainHead> {
    return withFileLock(
      this.#lockPath,
      async () => {
        const head = await this.#anchoredHead();
        return head === 'new' ? EMPTY_HEAD : head;
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
  }

  async search(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const found: AuditEvent[] = [];
    for await (const event of this.events(filter)) found.push(event);
    return found;
  }

  async *events(filter: AuditFilter = {}): AsyncIterable<AuditEvent> {
    if (filter.limit !== undefined && filter.limit <= 0) return;
    let yielded = 0;
    for await (const record of this.#records()) {
      // A line that is not a well-formed event is verify's business; search shows the intact ones.
      const event = parseStoredEvent(record);
      if (!event || !matchesFilter(event, filter)) continue;
      yield event;
      yielded += 1;
      if (filter.limit !== undefined && yielded >= filter.limit) return;
    }
  }

  exportCsv(file: string, filter: AuditFilter = {}): Promise<number> {
    return writeAuditCsv(file, this.events(filter));
  }

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    // Anchor first: appends only add lines, so events read afterwards reach at least this far.
    const anchor = await this.#readAnchor();
    if (!anchor && (await this.#lastWholeEvent(undefined, { repair: false })).seq === 0) {
      const evidence = await this.#usedBefore();
      if (evidence) return { ok: false, count: 0, problem: { kind: 'missing', seq: 1, detail: `the audit store is gone, yet the data folder was used before (${evidence})` } };
    }
    const verifier = new ChainVerifier({ store: anchor ?? null, expected: options.expectedHeads });
    for await (const record of this.#records()) verifier.push(record);
    const result = verifier.finish();
    const mismatch = verifier.mismatchedEvent;
    if (!mismatch) return result;
    let before: number | undefined;
    let after: number | undefined;
    for await (const record of this.#records()) {
      const event = parseStoredEvent(record);
      if (event?.hash === mismatch.event.prevHash) before ??= event.seq;
      if (event?.prevHash === mismatch.event.hash) after ??= event.seq;
    }
    return explainMovedEvent(result, mismatch, { before, after });
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  async *#records(): AsyncIterable<unknown> {
    const input = createReadStream(this.#eventsPath, { encoding: 'utf8' });
    const opened = new Promise<boolean>((resolve, reject) => {
      input.once('ready', () => resolve(true));
      input.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? resolve(false) : reject(err)));
    });
    if (!(await opened)) return;
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of lines) yield parseLine(line);
    } finally {
      lines.close();
      input.destroy();
    }
  }

  async #readAnchor(): Promise<ChainHead | undefined> {
    let text: string;
    try {
      text = await readFile(this.#anchorPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = parseLine(text) as Partial<ChainHead> | undefined;
    if (typeof parsed?.seq !== 'number' || typeof parsed.hash !== 'string') {
      throw new AuditStoreCorruptError(this.location, `${ANCHOR_FILE} is not a head record`);
    }
    return { seq: parsed.seq, hash: parsed.hash };
  }

  async #writeAnchor(head: ChainHead): Promise<void> {
    await writeFileAtomic(this.#anchorPath, `${JSON.stringify({ ...head, updated: new Date().toISOString() })}\n`);
  }

  /**
   * The head to chain onto, or 'new' for a store that never existed. Refuses unless the file's
   * last event is the anchored head: each append re-anchors, so chaining onto a cut or rewritten
   * file would make the tampering look whole. Events beyond the anchor (a crash between fsync and
   * re-anchoring) are chained onto only when the whole chain verifies against the anchor.
   */
  async #anchoredHead(): Promise<ChainHead | 'new'> {
    const anchor = await this.#readAnchor();
    const last = await this.#lastWholeEvent(anchor, { repair: true });
    if (!anchor) {
      if (last.seq > 0) throw new AuditStoreCorruptError(this.location, `${ANCHOR_FILE} is missing but ${EVENTS_FILE} holds events up to ${last.seq}`);
      const evidence = await this.#usedBefore();
      if (evidence) throw new AuditStoreCorruptError(this.location, `the store is missing but the data folder was used before (${evidence})`);
      return 'new';
    }
    if (anchor.seq > last.seq) {
      throw new AuditStoreCorruptError(this.location, `${EVENTS_FILE} ends at event ${last.seq} but ${ANCHOR_FILE} records event ${anchor.seq}: events were cut off`);
    }
    if (anchor.seq === last.seq) {
      if (anchor.hash !== last.hash) throw new AuditStoreCorruptError(this.location, `event ${last.seq} is not the anchored head: the file was rewritten`);
      return last;
    }
    const verified = await this.verify();
    if (!verified.ok) throw new AuditStoreCorruptError(this.location, `${verified.problem.kind} at event ${verified.problem.seq}`);
    return last;
  }

  /**
   * At open: starts the chain of a brand-new store in an unused data folder (an empty anchor), so
   * that an events file without an anchor is never normal. A store found damaged or missing is left
   * as it is, for append to refuse and verify to explain.
   */
  async prepare(dataDir: string): Promise<void> {
    await withFileLock(
      this.#lockPath,
      async () => {
        const anchor = await this.#readAnchor().catch((err: unknown) => (err instanceof AuditStoreCorruptError ? null : Promise.reject(err)));
        if (anchor !== undefined) return;
        if ((await stat(this.#eventsPath).catch(() => undefined))?.size) return;
        if (await this.#usedBefore(dataDir)) return;
        await this.#startChain();
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
  }

  /** A fresh store: an empty anchor first, so that an events file without one is never normal. */
  async #startChain(): Promise<void> {
    await this.#writeAnchor(EMPTY_HEAD);
  }

  #usedBefore(dataDir = this.#dataDir): Promise<string | undefined> {
    return dataDir === undefined ? Promise.resolve(undefined) : fileStoreUsedBefore(dataDir);
  }

  /**
   * The last whole line of the events file. A line cut short by a crash mid-append (no final
   * newline) was never acknowledged — `append` resolves only after fsync and re-anchoring — so with
   * `repair` it is cut off, but only while the anchor confirms nothing acknowledged sits beyond the
   * last whole line.
   */
  async #lastWholeEvent(anchor: ChainHead | undefined, { repair }: { repair: boolean }): Promise<ChainHead> {
    const size = (await stat(this.#eventsPath).catch(() => undefined))?.size ?? 0;
    if (size === 0) return EMPTY_HEAD;
    const handle = await open(this.#eventsPath, repair ? 'r+' : 'r');
    try {
      const start = Math.max(0, size - TAIL_BYTES);
      const tail = Buffer.alloc(size - start);
      await handle.read(tail, 0, tail.length, start);
      // Byte offsets, not string ones: the window may begin inside a multi-byte character.
      const complete = tail.lastIndexOf(NEWLINE) + 1;
      const lastLineStart = complete === 0 ? 0 : tail.lastIndexOf(NEWLINE, complete - 2) + 1;
      if (lastLineStart === 0 && start > 0) {
        throw new AuditStoreCorruptError(this.location, 'the last event line is longer than any event');
      }
      const last = complete === 0 ? undefined : parseStoredEvent(parseLine(tail.subarray(lastLineStart, complete - 1).toString('utf8')));
      if (complete > 0 && !last) throw new AuditStoreCorruptError(this.location, 'the last event line is not a well-formed audit event');
      const head = last ? { seq: last.seq, hash: last.hash } : EMPTY_HEAD;
      if (repair && complete < tail.length) {
        if (anchor && anchor.seq > head.seq) throw new AuditStoreCorruptError(this.location, 'the file ends in a partial line after acknowledged events');
        await handle.truncate(start + complete);
        await handle.sync();
      }
      return head;
    } finally {
      await handle.close();
    }
  }
}

/** Opens (creating if needed, owner-only) the file store in `dir`. */
export async function openFileAuditStore(dir: string, options: FileAuditStoreOptions = {}): Promise<AuditStore> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const store = new FileAuditStore(dir, options);
  if (options.dataDir !== undefined) await store.prepare(options.dataDir);
  return store;
}
