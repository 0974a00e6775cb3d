import type { AuditEvent } from './event.js';
import type { AuditStore } from './store.js';

/**
 * One person, several NHS numbers: when PDS answers that a number was superseded (DEMOG-0017, a
 * merged record), the exchange's event carries the replacement as its `nhsNumber` and the number
 * supplied in its detail (`superseded_nhs_number=…`, row-events.ts). An auditor asking about either
 * number is asking about the same person, so a search by NHS number follows these links, both ways
 * and through chains of them, and says under which number each event was found.
 */

const SUPERSEDED_KEY = 'superseded_nhs_number';

/**
 * The number PDS replaced, as it stands in a superseded exchange's detail. One pattern, used as a
 * JavaScript RegExp by the file store and as a PostgreSQL regular expression by the PostgreSQL
 * store (pg-store.ts), so the two find the same links. Its one group is the number.
 */
export const SUPERSEDED_DETAIL_PATTERN = `(?:^| )${SUPERSEDED_KEY}=([0-9]{10})(?: |$)`;
const SUPERSEDED_DETAIL = new RegExp(SUPERSEDED_DETAIL_PATTERN);

/** The detail field that records which number a superseded exchange's replacement replaced. */
export function supersededDetail(superseded: string): string {
  return `${SUPERSEDED_KEY}=${superseded}`;
}

/** A number SMSP said was superseded, its replacement, and the event that says so. */
export interface Supersession {
  superseded: string;
  replacement: string;
  seq: number;
}

/** The link an event records, if it is an SMSP exchange that answered "superseded by". */
export function supersessionOf(event: Pick<AuditEvent, 'kind' | 'outcome' | 'nhsNumber' | 'detail' | 'seq'>): Supersession | undefined {
  if (event.kind !== 'smsp_exchange' || event.outcome !== 'superseded' || event.nhsNumber === undefined || event.detail === undefined) return undefined;
  const superseded = SUPERSEDED_DETAIL.exec(event.detail)?.[1];
  if (superseded === undefined || superseded === event.nhsNumber) return undefined;
  return { superseded, replacement: event.nhsNumber, seq: event.seq };
}

/** Whether `event` records a link with `nhsNumber` at either end (the store filter `supersessionOf`). */
export function recordsSupersessionOf(event: AuditEvent, nhsNumber: string): boolean {
  const link = supersessionOf(event);
  return link !== undefined && (link.superseded === nhsNumber || link.replacement === nhsNumber);
}

/** How a number found through the links relates to the one it was reached from. */
export interface RelatedNumber {
  nhsNumber: string;
  /** Absent for the number searched for. */
  relation?: { kind: 'replacement_of' | 'superseded_by'; nhsNumber: string };
}

export interface PatientNumbers {
  /** The number searched for first, then each number reached, in the order found. */
  numbers: RelatedNumber[];
  /** The links followed, each once, in seq order. */
  links: Supersession[];
}

/**
 * Every number the trail links to `nhsNumber` by supersession, however many links away. Each
 * step is one indexed search (the store filter `supersessionOf`), and there are as many as
 * numbers found: a handful for one person.
 */
export async function patientNumbers(store: Pick<AuditStore, 'search'>, nhsNumber: string): Promise<PatientNumbers> {
  const numbers = new Map<string, RelatedNumber>([[nhsNumber, { nhsNumber }]]);
  const links = new Map<number, Supersession>();
  const pending = [nhsNumber];
  for (let current = pending.shift(); current !== undefined; current = pending.shift()) {
    for (const event of await store.search({ supersessionOf: current })) {
      const link = supersessionOf(event);
      if (!link) continue;
      links.set(link.seq, link);
      const [other, relation] =
        link.superseded === current ? [link.replacement, 'replacement_of' as const] : [link.superseded, 'superseded_by' as const];
      if (numbers.has(other)) continue;
      numbers.set(other, { nhsNumber: other, relation: { kind: relation, nhsNumber: current } });
      pending.push(other);
    }
  }
  return { numbers: [...numbers.values()], links: [...links.values()].sort((a, b) => a.seq - b.seq) };
}

/** `9990000026 (replacement of 9990000018)`: which number an event matched under, in words. */
export function describeRelatedNumber(related: RelatedNumber): string {
  if (!related.relation) return related.nhsNumber;
  const how = related.relation.kind === 'replacement_of' ? 'replacement of' : 'superseded by';
  return `${related.nhsNumber} (${how} ${related.relation.nhsNumber})`;
}
