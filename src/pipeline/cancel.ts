import { access } from 'node:fs/promises';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import { batchPaths, readBatchCancellation, saveBatch, type BatchCancellation, type BatchMeta } from './batch.js';
import { doneChunks } from './queues.js';

/**
 * Cancelling a batch: a person stops it for good. The cancellation is written to the batch folder
 * (`cancelled.json`, which `loadBatch` lets win over batch.json, and batch.json's state), so every
 * process sees it from the folder alone, like everything else about a batch: a chunk being traced
 * in any process stops at its next row and writes no results (traceChunk polls for it), jobs not
 * yet started skip the batch, and nothing assembles it. Chunk results already written stay: they
 * are what `status` shows as done.
 */

/** A cancelled batch reached by a stage, or by someone waiting for its outputs. */
export class BatchCancelledError extends Error {
  override readonly name = 'BatchCancelledError';
  constructor(
    readonly batchId: string,
    readonly cancellation: BatchCancellation,
  ) {
    super(`batch ${batchId} was cancelled by ${cancellation.by} at ${cancellation.at}: nothing more was traced and no outputs were written`);
  }
}

/** A batch that cannot be cancelled in its state, with why. */
export class BatchNotCancellableError extends Error {
  override readonly name = 'BatchNotCancellableError';
  constructor(
    readonly batchId: string,
    readonly reason: 'finished' | 'fully_traced',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Records the batch as cancelled by `by`. A finished batch cannot be, nor one whose every chunk is
 * traced (its outputs are being written, or are about to be: stopping then would leave half a set).
 */
export async function cancelBatch(dataDir: string, meta: BatchMeta, by: string, now = new Date()): Promise<BatchMeta> {
  if (meta.state === 'assembled' || meta.state === 'rejected' || meta.state === 'cancelled') {
    throw new BatchNotCancellableError(meta.id, 'finished', `batch ${meta.id} is already ${meta.state}: nothing to cancel`);
  }
  if (meta.state === 'ingested' && (await doneChunks(dataDir, meta)).size >= (meta.chunks?.length ?? 0)) {
    throw new BatchNotCancellableError(meta.id, 'fully_traced', `batch ${meta.id}: every row is traced and its outputs are being written; too late to cancel`);
  }
  const cancellation: BatchCancellation = { at: now.toISOString(), by, from: meta.state };
  const paths = batchPaths(dataDir, meta.id);
  // The file first: it is what every process reads; batch.json follows for people reading it.
  await writeFileAtomic(paths.cancelled, `${JSON.stringify(cancellation, null, 2)}\n`);
  const cancelled: BatchMeta = { ...meta, state: 'cancelled', cancelled: cancellation, finishedAt: cancellation.at };
  await saveBatch(paths, cancelled);
  return cancelled;
}

/**
 * The `batch_cancelled` event of a cancellation, as every way of cancelling records it: the state it
 * was stopped in and how many rows were done (and kept); `surface` names a way other than the CLI.
 */
export function cancellationEvent(meta: BatchMeta, rowsDone: number, surface?: string): { kind: 'batch_cancelled'; batchId: string; outcome: 'cancelled'; detail: string } {
  return { kind: 'batch_cancelled', batchId: meta.id, outcome: 'cancelled', detail: `from=${meta.state} rows_done=${rowsDone}${surface ? ` surface=${surface}` : ''}` };
}

export async function isCancelled(dataDir: string, batchId: string): Promise<boolean> {
  return access(batchPaths(dataDir, batchId).cancelled).then(
    () => true,
    () => false,
  );
}

/** How often a chunk being traced looks for a cancellation. */
export const CANCEL_POLL_MS = 1000;

/**
 * A signal that fires once the batch is cancelled, looking every `intervalMs` until `stop()`. One
 * file check a second per open chunk: nothing beside its SMSP requests.
 */
export function watchForCancel(dataDir: string, batchId: string, intervalMs = CANCEL_POLL_MS): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  let looking = false;
  const timer = setInterval(() => {
    if (looking || controller.signal.aborted) return;
    looking = true;
    void isCancelled(dataDir, batchId).then((cancelled) => {
      looking = false;
      if (cancelled) {
        controller.abort();
        clearInterval(timer);
      }
    });
  }, intervalMs);
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

/** Throws BatchCancelledError when the batch has been cancelled. */
export async function throwIfCancelled(dataDir: string, batchId: string): Promise<void> {
  const cancellation = await readBatchCancellation(batchPaths(dataDir, batchId));
  if (cancellation) throw new BatchCancelledError(batchId, cancellation);
}
