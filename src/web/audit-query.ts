import { AUDIT_EVENT_KINDS, type AuditEventKind } from '../audit/event.js';
import type { TrailQuery } from '../audit/trail-search.js';
import { BATCH_ID_PATTERN } from '../pipeline/batch-id.js';

/**
 * An audit search as a form or a script gives it (strings), checked field by field into the
 * TrailQuery every auditor's tool searches with. Each problem is named with what to give instead,
 * keyed by the field, for the page's error summary and the API's message.
 */

export interface AuditSearchInput {
  user?: unknown;
  batchId?: unknown;
  kind?: unknown;
  messageId?: unknown;
  nhsNumber?: unknown;
  from?: unknown;
  to?: unknown;
  limit?: unknown;
}

/** Events a search lists on a page or in JSON unless it asks for fewer (CSV exports have no cap). */
export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

export type AuditQueryResult = { ok: true; query: TrailQuery } | { ok: false; problems: Record<string, string> };

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

function time(value: string): Date | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

export function parseAuditQuery(input: AuditSearchInput, options: { capped: boolean }): AuditQueryResult {
  const problems: Record<string, string> = {};
  const query: TrailQuery = {};
  query.user = text(input.user);
  query.messageId = text(input.messageId);
  const batchId = text(input.batchId);
  if (batchId !== undefined) {
    if (BATCH_ID_PATTERN.test(batchId)) query.batchId = batchId;
    else problems.batchId = 'Enter a batch id as shown on the batches page, like b20261206T101500Z-1a2b3c4d-9f0e';
  }
  const kind = text(input.kind);
  if (kind !== undefined) {
    if ((AUDIT_EVENT_KINDS as readonly string[]).includes(kind)) query.kind = kind as AuditEventKind;
    else problems.kind = 'Choose a kind of event from the list';
  }
  const nhsNumber = text(input.nhsNumber)?.replace(/[\s-]/g, '');
  if (nhsNumber !== undefined) {
    if (/^\d{10}$/.test(nhsNumber)) query.nhsNumber = nhsNumber;
    else problems.nhsNumber = 'Enter an NHS number of 10 digits, like 943 476 5919';
  }
  for (const field of ['from', 'to'] as const) {
    const value = text(input[field]);
    if (value === undefined) continue;
    const parsed = time(value);
    if (parsed) query[field] = parsed;
    else problems[field] = `Enter the ${field === 'from' ? 'start' : 'end'} as a date or time, like 2026-12-06 or 2026-12-06T09:00Z (UTC unless a zone is given)`;
  }
  const limit = text(input.limit);
  if (limit !== undefined) {
    const n = Number(limit);
    if (Number.isInteger(n) && n >= 1 && n <= MAX_AUDIT_LIMIT) query.limit = n;
    else problems.limit = `Enter how many events to list, from 1 to ${MAX_AUDIT_LIMIT}`;
  } else if (options.capped) {
    query.limit = DEFAULT_AUDIT_LIMIT;
  }
  return Object.keys(problems).length > 0 ? { ok: false, problems } : { ok: true, query };
}
