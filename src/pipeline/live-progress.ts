import { TRACE_STATUSES, type TraceStatus } from '../domain/outcome.js';
import type { StatusCounts } from './progress.js';

/**
 * Rows traced so far in chunks that are still being traced, shared through Redis, so whoever
 * follows a batch in queue mode (`trace`, `resume`, `status --follow`) sees rows as they are
 * traced rather than only when a whole chunk's results file appears.
 *
 * One hash per batch, `<prefix>:live:<batch id>`, with a field `<chunk>:<status>` per count: ids and
 * counts only, never patient data (ARCHITECTURE property 6). A chunk's fields are cleared when its
 * trace starts and when it ends, so a chunk traced again after a crash counts from zero; the counts
 * are approximate while that happens, and final counts always come from the chunk result files.
 * Reporting is advisory: a Redis failure here never fails a chunk.
 */

/** The few Redis commands used, as both ioredis' client and BullMQ's connection provide them. */
export interface LiveProgressRedis {
  hgetall(key: string): Promise<Record<string, string>>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  del(key: string): Promise<number>;
  multi(): { hincrby(key: string, field: string, by: number): unknown; pexpire(key: string, ms: number): unknown; exec(): Promise<unknown> };
}

/** Kept a week after its last update, then Redis drops a hash nobody cleared. */
const LIVE_KEY_TTL_MS = 7 * 24 * 3600 * 1000;
/** How often a chunk sends its counts: a follower polls a few times a second. */
const DEFAULT_FLUSH_MS = 500;

export type LiveChunkCounts = Map<number, Partial<StatusCounts>>;

export interface LiveProgress {
  /** A reporter for one chunk's rows, its earlier counts cleared. */
  startChunk(batchId: string, chunk: number): Promise<ChunkProgressReporter>;
  /** The counts of every chunk that reported, by chunk index. */
  read(batchId: string): Promise<LiveChunkCounts>;
  /** Forgets the batch's counts (cancelled or finished). */
  clear(batchId: string): Promise<void>;
}

export function redisLiveProgress(redis: LiveProgressRedis, prefix: string, flushMs = DEFAULT_FLUSH_MS): LiveProgress {
  const key = (batchId: string) => `${prefix}:live:${batchId}`;
  return {
    async startChunk(batchId, chunk) {
      const reporter = new ChunkProgressReporter(redis, key(batchId), chunk, flushMs);
      await reporter.clear();
      return reporter;
    },
    async read(batchId) {
      const counts: LiveChunkCounts = new Map();
      for (const [field, value] of Object.entries(await redis.hgetall(key(batchId)))) {
        const [chunk, status] = field.split(':') as [string, TraceStatus];
        if (!TRACE_STATUSES.includes(status)) continue;
        const entry = counts.get(Number(chunk)) ?? {};
        entry[status] = Number(value);
        counts.set(Number(chunk), entry);
      }
      return counts;
    },
    async clear(batchId) {
      await redis.del(key(batchId));
    },
  };
}

/** Counts one chunk's rows as they finish and sends them at most every `flushMs`. */
export class ChunkProgressReporter {
  #pending = new Map<TraceStatus, number>();
  #sending: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly redis: LiveProgressRedis,
    private readonly key: string,
    private readonly chunk: number,
    flushMs: number,
  ) {
    this.#timer = setInterval(() => this.#flush(), flushMs);
    this.#timer.unref();
  }

  record(status: TraceStatus): void {
    this.#pending.set(status, (this.#pending.get(status) ?? 0) + 1);
  }

  /** Stops reporting and clears the chunk's counts: its results file (or its next run) counts now. */
  async end(): Promise<void> {
    clearInterval(this.#timer);
    this.#pending.clear();
    await this.#sending;
    await this.clear();
  }

  async clear(): Promise<void> {
    await this.redis.hdel(this.key, ...TRACE_STATUSES.map((s) => `${this.chunk}:${s}`)).catch(() => undefined);
  }

  #flush(): void {
    if (this.#pending.size === 0) return;
    const counts = [...this.#pending];
    this.#pending.clear();
    this.#sending = this.#sending.then(async () => {
      const multi = this.redis.multi();
      for (const [status, n] of counts) multi.hincrby(this.key, `${this.chunk}:${status}`, n);
      multi.pexpire(this.key, LIVE_KEY_TTL_MS);
      await multi.exec().catch(() => undefined);
    });
  }
}
