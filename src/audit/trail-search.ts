import type { AuditEvent, AuditEventKind, NewAuditEvent } from './event.js';
import type { AuditFilter, AuditStore } from './store.js';
import { describeRelatedNumber, patientNumbers, type PatientNumbers } from './superseded-numbers.js';

/**
 * A search of the audit trail as every auditor's tool makes it (`pds-trace audit search`, the web
 * `/audit` page and `GET /api/audit/events`): a search by NHS number follows the trail's links to
 * the person's other numbers, each event says which number it was found under, and the search
 * itself is recorded (`audit_searched`: who looked, for which patient, what filters, how many).
 */

/** What to search for; every filter given combines. */
export interface TrailQuery {
  user?: string;
  messageId?: string;
  /** Ten digits. */
  nhsNumber?: string;
  batchId?: string;
  kind?: AuditEventKind;
  from?: Date;
  to?: Date;
  limit?: number;
}

export interface TrailSearch {
  filter: AuditFilter;
  /** The searched number and those the trail links to it, when searched by NHS number. */
  numbers?: PatientNumbers;
  /** Which of the person's numbers an event was found under, in words; only for a search by NHS number. */
  matchedUnder?: (event: AuditEvent) => string;
}

const FILTER_NAMES = ['user', 'messageId', 'nhsNumber', 'batchId', 'kind', 'from', 'to'] as const;

/** Resolves the person's numbers (for a search by NHS number) and builds the store filter. */
export async function prepareTrailSearch(store: Pick<AuditStore, 'search'>, query: TrailQuery): Promise<TrailSearch> {
  const numbers = query.nhsNumber === undefined ? undefined : await patientNumbers(store, query.nhsNumber);
  const filter: AuditFilter = {
    user: query.user,
    messageId: query.messageId,
    nhsNumber: numbers?.numbers.map((n) => n.nhsNumber),
    batchId: query.batchId,
    kind: query.kind,
    from: query.from,
    to: query.to,
    limit: query.limit,
  };
  if (!numbers) return { filter };
  const described = new Map(numbers.numbers.map((n) => [n.nhsNumber, describeRelatedNumber(n)]));
  return { filter, numbers, matchedUnder: (event) => (event.nhsNumber === undefined ? '-' : (described.get(event.nhsNumber) ?? event.nhsNumber)) };
}

/**
 * The `audit_searched` event of a search: the patient and message looked for in their own fields,
 * the other filters by name, the count, and the person's other numbers (as much a part of it).
 */
export function searchedEvent(query: TrailQuery, search: TrailSearch, count: number, outcome: 'listed' | 'exported', surface?: string): Omit<NewAuditEvent, 'time' | 'user' | 'role' | 'origin'> {
  const used = FILTER_NAMES.filter((k) => query[k] !== undefined).map((k) => (k === 'batchId' ? 'batch' : k));
  const related = search.numbers?.numbers.slice(1).map((n) => n.nhsNumber) ?? [];
  const detail = [
    `filters=${used.length === 0 ? 'none' : used.join(',')} events=${count}`,
    related.length > 0 ? `related_nhs_numbers=${related.join(',')}` : undefined,
    surface ? `surface=${surface}` : undefined,
  ];
  return { kind: 'audit_searched', nhsNumber: query.nhsNumber, messageId: query.messageId, batchId: query.batchId, outcome, detail: detail.filter(Boolean).join(' ') };
}
