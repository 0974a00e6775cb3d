import type { RowResult } from '../domain/row-result.js';
import { batchPaths, loadBatch, type BatchMeta } from './batch.js';
import { readJsonLines } from './jsonl.js';
import { BatchProgress } from './progress.js';
import { holdNotice, readProviderHold, type ProviderHold } from './provider-hold.js';
import { doneChunks } from './queues.js';

/**
 * Follows a batch that other processes are working on, from its folder alone: rows done and counts
 * by status grow as chunk result files appear (each is read once), until the batch is assembled or
 * its file rejected. A batch that workers on another provider refused says so (`hold`, and the
 * progress notice), so a person waiting sees why nothing moves.
 */
export class BatchWatcher {
  readonly progress = new BatchProgress();
  private readonly counted = new Set<number>();
  private rejectedCounted = false;
  /** Why the batch waits, while it does: workers on another provider refused it. */
  hold: ProviderHold | undefined;

  constructor(
    private readonly dataDir: string,
    readonly batchId: string,
  ) {}

  async poll(): Promise<BatchMeta> {
    const meta = await loadBatch(this.dataDir, this.batchId);
    // A finished batch waits for nothing, whatever a late refusal wrote.
    this.hold = meta.state === 'ingested' ? await readProviderHold(this.dataDir, meta.id) : undefined;
    this.progress.notice = this.hold ? holdNotice(this.hold) : undefined;
    // A batch whose work files were removed has no results left to count.
    if (meta.state === 'created' || meta.state === 'rejected' || meta.workFilesRemoved) return meta;
    this.progress.total = meta.rows;
    const paths = batchPaths(this.dataDir, meta.id);
    if (!this.rejectedCounted) {
      for await (const r of readJsonLines<RowResult>(paths.rejected)) this.progress.record(r);
      this.rejectedCounted = true;
    }
    for (const index of await doneChunks(this.dataDir, meta)) {
      if (this.counted.has(index)) continue;
      this.counted.add(index);
      for await (const r of readJsonLines<RowResult>(paths.chunkResults(index))) this.progress.record(r);
    }
    return meta;
  }

  async waitUntilFinished(options: { intervalMs?: number; signal?: AbortSignal } = {}): Promise<BatchMeta> {
    for (;;) {
      const meta = await this.poll();
      if (meta.state === 'assembled' || meta.state === 'rejected') return meta;
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
    }
  }
}
