import type { RowResult } from '../domain/row-result.js';
import { batchPaths, loadBatch, type BatchMeta } from './batch.js';
import { BatchCancelledError } from './cancel.js';
import { readJsonLines } from './jsonl.js';
import type { LiveChunkCounts, LiveProgress } from './live-progress.js';
import { BatchProgress, type StatusCounts } from './progress.js';
import { holdNotice, readProviderHold, type ProviderHold } from './provider-hold.js';
import { doneChunks } from './queues.js';

/** States a batch never leaves. */
export function hasEnded(meta: BatchMeta): boolean {
  return meta.state === 'assembled' || meta.state === 'rejected' || meta.state === 'cancelled';
}

/**
 * Follows a batch that other processes are working on, from its folder: rows done and counts by
 * status grow as chunk result files appear (each is read once), until the batch is assembled, its
 * file rejected or it is cancelled. With `live` (queue mode), rows of chunks still being traced are
 * added as workers report them, so the count moves row by row rather than chunk by chunk. A batch
 * that workers on another provider refused says so (`hold`, and the progress notice), so a person
 * waiting sees why nothing moves.
 */
export class BatchWatcher {
  readonly progress = new BatchProgress();
  private readonly counted = new Set<number>();
  private rejectedCounted = false;
  private polled = false;
  /** Why the batch waits, while it does: workers on another provider refused it. */
  hold: ProviderHold | undefined;

  constructor(
    private readonly dataDir: string,
    readonly batchId: string,
    private readonly live?: LiveProgress,
  ) {}

  async poll(): Promise<BatchMeta> {
    const meta = await this.#read();
    if (!this.polled) {
      // The pace is measured from the first look: rows done before it took no time of ours.
      this.polled = true;
      this.progress.startClock();
    }
    return meta;
  }

  async #read(): Promise<BatchMeta> {
    const meta = await loadBatch(this.dataDir, this.batchId);
    // A finished batch waits for nothing, whatever a late refusal wrote.
    this.hold = meta.state === 'ingested' ? await readProviderHold(this.dataDir, meta.id) : undefined;
    this.progress.notice = this.hold ? holdNotice(this.hold) : undefined;
    // A batch whose work files were removed has no results left to count.
    if (meta.state === 'created' || meta.state === 'rejected' || meta.workFilesRemoved || meta.rows === undefined) return meta;
    this.progress.total = meta.rows;
    const paths = batchPaths(this.dataDir, meta.id);
    if (!this.rejectedCounted) {
      for await (const r of readJsonLines<RowResult>(paths.rejected)) this.progress.record(r);
      this.rejectedCounted = true;
    }
    // Live counts before the files: a worker writes a chunk's results before it clears the chunk's
    // count, so a count already cleared here means a file the listing below will find.
    const live = meta.state === 'ingested' && this.live ? await this.live.read(this.batchId).catch(() => undefined) : undefined;
    for (const index of await doneChunks(this.dataDir, meta)) {
      if (this.counted.has(index)) continue;
      this.counted.add(index);
      for await (const r of readJsonLines<RowResult>(paths.chunkResults(index))) this.progress.record(r);
    }
    this.progress.setLive(live ? this.#openChunkRows(live) : {});
    return meta;
  }

  /** Rows of chunks still being traced, as workers last reported them. */
  #openChunkRows(byChunk: LiveChunkCounts): Partial<StatusCounts> {
    const total: Partial<StatusCounts> = {};
    for (const [index, counts] of byChunk) {
      // A chunk whose results file is counted is counted from it, never twice.
      if (this.counted.has(index)) continue;
      for (const [status, n] of Object.entries(counts) as Array<[keyof StatusCounts, number]>) total[status] = (total[status] ?? 0) + n;
    }
    return total;
  }

  /**
   * Polls until the batch ends; resolves with it assembled or rejected. A batch cancelled meanwhile
   * never gives outputs to whoever waits for them: BatchCancelledError.
   */
  async waitUntilFinished(options: { intervalMs?: number; signal?: AbortSignal } = {}): Promise<BatchMeta> {
    for (;;) {
      const meta = await this.poll();
      if (meta.state === 'cancelled') throw new BatchCancelledError(meta.id, meta.cancelled!);
      if (hasEnded(meta)) return meta;
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
    }
  }
}
