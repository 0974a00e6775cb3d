import type { AuditSink } from './audit-sink.js';
import { auditHeadOf } from './audit-sink.js';
import { assembleBatch } from './assemble.js';
import type { BatchMeta, BatchState } from './batch.js';
import { requireWorkFiles } from './retention.js';
import { retryErrorRows } from './retry-errors.js';
import type { SmspCaller } from './strategy.js';

/**
 * The rules of `resume` and `retry`, whoever asks (`pds-trace resume`/`retry`, or the web
 * service's `POST /api/batches/:id/resume` and `/retry`): which batches may be taken up again, and
 * what a retry does. The caller checks who may act (requireBatchControl) and records the action;
 * the refusals here are typed, so each surface words its answer (an exit code, an HTTP status).
 */

export type BatchAction = 'resumed' | 'retried';

/** Why a batch cannot be resumed or retried: each a stable code a surface can key on. */
export type BatchActionRefusal = 'cancelled' | 'not_finished';

export class BatchActionRefusedError extends Error {
  override readonly name = 'BatchActionRefusedError';
  constructor(
    readonly batchId: string,
    readonly action: BatchAction,
    readonly refusal: BatchActionRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** A cancelled batch is finished for good: it is submitted again, never resumed or retried. */
function refuseCancelled(meta: BatchMeta, action: BatchAction): void {
  if (meta.state !== 'cancelled') return;
  throw new BatchActionRefusedError(
    meta.id,
    action,
    'cancelled',
    `batch ${meta.id} was cancelled by ${meta.cancelled?.by ?? '?'} at ${meta.cancelled?.at ?? '?'}: it cannot be ${action}; submit the file again`,
  );
}

/** What resuming a batch comes to: tracing what is left, or nothing (it has already ended). */
export type ResumePlan = { kind: 'resume' } | { kind: 'nothing'; state: Extract<BatchState, 'assembled' | 'rejected'> };

/**
 * Whether a batch can be resumed: not a cancelled one, nor one whose work files were removed
 * (WorkFilesRemovedError); an assembled or rejected batch has nothing left to resume.
 */
export function planResume(meta: BatchMeta): ResumePlan {
  refuseCancelled(meta, 'resumed');
  requireWorkFiles(meta, 'resumed');
  if (meta.state === 'assembled' || meta.state === 'rejected') return { kind: 'nothing', state: meta.state };
  return { kind: 'resume' };
}

/**
 * Throws unless `retry` applies: only an assembled batch (its error rows are final), not a
 * cancelled one, and with its work files (the rows to send again) still there.
 */
export function assertRetryable(meta: BatchMeta): void {
  refuseCancelled(meta, 'retried');
  requireWorkFiles(meta, 'retried');
  if (meta.state !== 'assembled') {
    throw new BatchActionRefusedError(meta.id, 'retried', 'not_finished', `batch ${meta.id} is ${meta.state}: only a finished batch can be retried (see \`pds-trace resume\`)`);
  }
}

export interface RetryBatchOptions {
  /** SMSP_MAX_IN_FLIGHT. */
  maxInFlight: number;
  /** Where the new exchanges are recorded, marked with who ran them (withActor). */
  audit: AuditSink;
  signal?: AbortSignal;
}

export interface RetryOutcome {
  /** Rows that were `error` and were traced again. */
  retried: number;
  /** Of those, rows still `error`. */
  stillErrors: number;
  /** The batch after the retry: outputs rewritten when any row was traced again. */
  meta: BatchMeta;
}

/**
 * Traces a finished batch's `error` rows again and, when there were any, writes its outputs again
 * from the updated results (assemble keeps the batch's first start as its start).
 */
export async function retryBatch(dataDir: string, meta: BatchMeta, caller: SmspCaller, options: RetryBatchOptions): Promise<RetryOutcome> {
  assertRetryable(meta);
  const { retried, stillErrors } = await retryErrorRows(dataDir, meta, caller, { maxInFlight: options.maxInFlight, audit: options.audit, signal: options.signal });
  if (retried === 0) return { retried, stillErrors, meta };
  const assembled = await assembleBatch(dataDir, meta, { startedAt: new Date(meta.createdAt), auditHead: auditHeadOf(options.audit) });
  return { retried, stillErrors, meta: assembled.meta };
}
