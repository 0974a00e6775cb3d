import type { NewAuditEvent } from '../audit/event.js';
import type { ChainHead } from '../audit/hash-chain.js';
import { rowAuditEvents } from '../audit/row-events.js';
import type { RowResult } from '../domain/row-result.js';
import type { BatchMeta } from './batch.js';

/**
 * Where the pipeline records what it did to each row: the audit store (src/audit/store.ts), or
 * anything else that makes events durable before `append` resolves. A row's result is written, and
 * so counts as done, only after its events are appended (ARCHITECTURE property 7).
 */
export interface AuditSink {
  append(events: readonly NewAuditEvent[]): Promise<unknown>;
  /** The chain's head after everything appended so far, where the sink is a chained store. */
  currentHead?(): Promise<ChainHead>;
}

/**
 * What assemble records in a batch's summary as a witness of the audit chain (src/audit/witnesses.ts):
 * the head after the batch's events, when the sink can say it.
 */
export function auditHeadOf(sink: AuditSink): (() => Promise<ChainHead>) | undefined {
  return sink.currentHead ? () => sink.currentHead!() : undefined;
}

/**
 * `sink`, with every event recorded for another user marked with who ran it (`actor=<id>` in its
 * detail). The events of a batch's rows name its submitter, from batch.json; a worker, `resume` or
 * `retry` runs them for someone else, and the one who did is accountable too, so a batch.json naming
 * another submitter cannot put exchanges on that person alone.
 */
export function withActor(sink: AuditSink, actor: string): AuditSink {
  return {
    append: (events) => sink.append(events.map((e) => (e.user === actor ? e : { ...e, detail: e.detail ? `${e.detail} actor=${actor}` : `actor=${actor}` }))),
    ...(sink.currentHead && { currentHead: () => sink.currentHead!() }),
  };
}

/** The audit events of some rows of a batch, in row order, as the batch's submitter did them. */
export function batchRowEvents(
  meta: BatchMeta,
  results: readonly RowResult[],
  suppliedNhsNumbers: ReadonlyMap<number, string | undefined>,
  /** The time of rows with no exchange (default now): the exchange journal records the same. */
  recordedAt?: Date,
): NewAuditEvent[] {
  const context = { batchId: meta.id, user: meta.options.user, role: meta.options.roles.join('+'), origin: meta.options.origin, ...(recordedAt && { now: () => recordedAt }) };
  return results.flatMap((result) => rowAuditEvents(result, { ...context, inputNhsNumber: suppliedNhsNumbers.get(result.rowNumber) }));
}
