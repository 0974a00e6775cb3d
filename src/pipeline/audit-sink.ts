import type { NewAuditEvent } from '../audit/event.js';
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
}

/** The audit events of some rows of a batch, in row order, as the batch's submitter did them. */
export function batchRowEvents(meta: BatchMeta, results: readonly RowResult[], suppliedNhsNumbers: ReadonlyMap<number, string | undefined>): NewAuditEvent[] {
  const context = { batchId: meta.id, user: meta.options.user, role: meta.options.roles.join('+'), origin: meta.options.origin };
  return results.flatMap((result) => rowAuditEvents(result, { ...context, inputNhsNumber: suppliedNhsNumbers.get(result.rowNumber) }));
}
