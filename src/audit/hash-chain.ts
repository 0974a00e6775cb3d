import { createHash } from 'node:crypto';
import { parseStoredEvent, type AuditEvent, type NewAuditEvent } from './event.js';

/**
 * The hash chain that makes the audit trail tamper-evident (ecosystem.md §8.3; MSCA-AUD "a sequence
 * number against tampering"). Each event's `hash` is SHA-256 over the canonical JSON of all its
 * other fields, `seq` and `prevHash` included, so changing any field, renumbering, or removing an
 * event breaks the chain from that point on.
 *
 * A chain on its own can be recomputed end to end by whoever can rewrite it, and cutting events off
 * the end leaves a valid shorter chain. So every store keeps an anchor — the head (seq + hash) —
 * apart from the events, updated with each append, and verify compares the chain with it; an
 * operator can also note the head that verify prints and check against it later (`--expect-head`),
 * which survives even a rewrite of the store's own anchor.
 */

/** prevHash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** The last event of a chain: what anchors record. seq 0 with GENESIS_HASH is the empty chain. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/**
 * JSON with object keys sorted at every level and no whitespace: the same event always gives the
 * same bytes, whatever order a store returns its fields in. Undefined fields are left out.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The hash an event must carry: over every field but `hash` itself. */
export function eventHash(event: Omit<AuditEvent, 'hash'>): string {
  const { hash: _ignored, ...rest } = event as AuditEvent;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** Numbers and chains new (already normalised) events after `head`. */
export function chainEvents(head: ChainHead, events: readonly NewAuditEvent[]): AuditEvent[] {
  let { seq, hash: prevHash } = head;
  return events.map((event) => {
    seq += 1;
    const unhashed = { ...event, seq, prevHash };
    const chained: AuditEvent = { ...unhashed, hash: eventHash(unhashed) };
    prevHash = chained.hash;
    return chained;
  });
}

/**
 * What verify found first:
 * - `edited`: an event's content no longer matches its hash, or is not a well-formed event
 *   (a changed, added or removed field; an inserted or repeated event);
 * - `deleted`: sequence numbers jump and the missing ones appear nowhere later (a gap);
 * - `reordered`: an event sits where another belongs and the missing one appears later;
 * - `truncated`: the chain ends before the head an anchor recorded;
 * - `anchor_mismatch`: the event at an anchor's seq has another hash (the chain was recomputed
 *   from there or earlier), or the store's anchor record is missing;
 * - `missing`: the whole store is gone from a data folder that was used before;
 * - `missing_events`: exchanges recorded in batch folders have no event in the trail (witnesses.ts).
 */
export type ChainProblemKind = 'edited' | 'deleted' | 'reordered' | 'truncated' | 'anchor_mismatch' | 'missing' | 'missing_events';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** The first sequence number that is not as the chain needs it. */
  seq: number;
  /** Human explanation; names sequence numbers and fields, never values. */
  detail: string;
}

export type VerifyResult =
  | {
      ok: true;
      /** Events read. */
      count: number;
      head: ChainHead;
      /**
       * Events after the store's anchor. Normally 0; more means a crash between writing events and
       * moving the anchor, or events added behind the application's back: the next append re-anchors.
       */
      unanchored: number;
    }
  | { ok: false; count: number; problem: ChainProblem };

export interface VerifierAnchors {
  /**
   * The store's own anchor; `null` when the store's anchor record is gone; undefined for a chain
   * with no store behind it.
   */
  store?: ChainHead | null;
  /** Heads noted elsewhere (printed by an earlier verify, kept off this machine). */
  expected?: readonly ChainHead[];
}

/** An event whose own hash failed, kept so a store can ask whether it was moved rather than changed. */
export interface MismatchedEvent {
  position: number;
  event: AuditEvent;
}

/**
 * Checks a chain one stored record at a time, so a store of millions of events verifies in flat
 * memory. Feed records in storage order with `push` (the parsed JSON, or undefined for a record
 * that did not parse), then `finish`.
 */
export class ChainVerifier {
  #expectedSeq = 1;
  #prevHash = GENESIS_HASH;
  #count = 0;
  #problem: ChainProblem | undefined;
  #mismatch: MismatchedEvent | undefined;
  /** A jump in seq: deleted, unless the missing seq turns up later (then reordered). */
  #gap: { missing: number; found: number } | undefined;
  readonly #anchors: ChainHead[];
  readonly #storeAnchor: ChainHead | null | undefined;
  readonly #seenAnchorHashes = new Map<number, string>();

  constructor(anchors: VerifierAnchors = {}) {
    this.#storeAnchor = anchors.store;
    this.#anchors = [...(anchors.store ? [anchors.store] : []), ...(anchors.expected ?? [])];
    for (const anchor of this.#anchors) if (anchor.seq === 0) this.#seenAnchorHashes.set(0, GENESIS_HASH);
  }

  push(record: unknown): void {
    this.#count += 1;
    if (this.#gap) {
      if (seqOf(record) === this.#gap.missing) {
        this.#problem = {
          kind: 'reordered',
          seq: this.#gap.missing,
          detail: `event ${this.#gap.found} stands where event ${this.#gap.missing} belongs; event ${this.#gap.missing} comes later`,
        };
        this.#gap = undefined;
      }
      return;
    }
    if (this.#problem) return;

    const expected = this.#expectedSeq;
    const event = parseStoredEvent(record);
    if (!event) {
      this.#problem = { kind: 'edited', seq: expected, detail: `the record where event ${expected} belongs is not a well-formed audit event` };
      return;
    }
    if (event.seq > expected) {
      this.#gap = { missing: expected, found: event.seq };
      return;
    }
    if (event.seq < expected) {
      this.#problem = { kind: 'edited', seq: expected, detail: `an event numbered ${event.seq} stands where event ${expected} belongs (a repeated or inserted event)` };
      return;
    }
    if (eventHash(event) !== event.hash) {
      this.#problem = { kind: 'edited', seq: expected, detail: `event ${expected} does not match its hash: a field was changed` };
      this.#mismatch = { position: expected, event };
      return;
    }
    if (event.prevHash !== this.#prevHash) {
      // Its own hash holds, so the link is what broke: the event before it was rewritten with a
      // recomputed hash (or this one was, wholesale).
      const culprit = Math.max(1, expected - 1);
      this.#problem = { kind: 'edited', seq: culprit, detail: `event ${expected}'s prevHash does not match event ${expected - 1}: event ${culprit} was rewritten` };
      return;
    }
    this.#prevHash = event.hash;
    this.#expectedSeq += 1;
    if (this.#anchors.some((a) => a.seq === event.seq)) this.#seenAnchorHashes.set(event.seq, event.hash);
  }

  /**
   * The event whose own hash failed, if that was the first problem. A store can look for where
   * its neighbours are and call {@link explainMovedEvent}: in a table, swapping two rows' seq is a
   * reordering that shows up as two content mismatches.
   */
  get mismatchedEvent(): MismatchedEvent | undefined {
    return this.#problem?.kind === 'edited' ? this.#mismatch : undefined;
  }

  finish(): VerifyResult {
    if (this.#gap) {
      const { missing, found } = this.#gap;
      const range = found - missing === 1 ? `event ${missing} is` : `events ${missing}..${found - 1} are`;
      return { ok: false, count: this.#count, problem: { kind: 'deleted', seq: missing, detail: `${range} missing (a gap before event ${found})` } };
    }
    if (this.#problem) return { ok: false, count: this.#count, problem: this.#problem };

    const head: ChainHead = { seq: this.#expectedSeq - 1, hash: this.#prevHash };
    if (this.#storeAnchor === null && head.seq > 0) {
      return { ok: false, count: this.#count, problem: { kind: 'anchor_mismatch', seq: head.seq, detail: 'the store holds events but its anchor record is missing' } };
    }
    for (const anchor of [...this.#anchors].sort((a, b) => a.seq - b.seq)) {
      if (anchor.seq > head.seq) {
        return {
          ok: false,
          count: this.#count,
          problem: { kind: 'truncated', seq: head.seq + 1, detail: `the chain ends at event ${head.seq} but an anchor records event ${anchor.seq}` },
        };
      }
      if (this.#seenAnchorHashes.get(anchor.seq) !== anchor.hash) {
        return {
          ok: false,
          count: this.#count,
          problem: { kind: 'anchor_mismatch', seq: anchor.seq, detail: `event ${anchor.seq} differs from the anchor: the chain was recomputed from there or earlier` },
        };
      }
    }
    return { ok: true, count: this.#count, head, unanchored: head.seq - (this.#storeAnchor?.seq ?? head.seq) };
  }
}

function seqOf(record: unknown): unknown {
  return record !== null && typeof record === 'object' ? (record as { seq?: unknown }).seq : undefined;
}

/**
 * Where a mismatched event's neighbours stand: the seq of the event whose hash is its prevHash, and
 * the seq of the event whose prevHash is its hash.
 */
export interface Neighbours {
  before?: number;
  after?: number;
}

/**
 * Turns an `edited` finding into `reordered` when the event is intact but stands at another seq:
 * its hash is right for the seq just after its predecessor, or just before its successor.
 */
export function explainMovedEvent(result: VerifyResult, mismatch: MismatchedEvent | undefined, neighbours: Neighbours): VerifyResult {
  if (result.ok || !mismatch) return result;
  const { event, position } = mismatch;
  const { before, after } = neighbours;
  const candidates = [before === undefined ? undefined : before + 1, after === undefined ? undefined : after - 1, event.prevHash === GENESIS_HASH ? 1 : undefined];
  const home = candidates.find((s) => s !== undefined && s !== position && eventHash({ ...event, seq: s }) === event.hash);
  if (home === undefined) return result;
  return {
    ...result,
    problem: { kind: 'reordered', seq: position, detail: `the event at seq ${position} was written as event ${home}: events were renumbered or moved` },
  };
}

/** Verifies a whole chain held in memory, against the store's anchor and any expected heads. */
export function verifyChain(events: readonly unknown[], anchors: VerifierAnchors = {}): VerifyResult {
  const verifier = new ChainVerifier(anchors);
  for (const record of events) verifier.push(record);
  const mismatch = verifier.mismatchedEvent;
  if (!mismatch) return verifier.finish();
  const parsed = events.map((e) => parseStoredEvent(e));
  return explainMovedEvent(verifier.finish(), mismatch, {
    before: parsed.find((e) => e?.hash === mismatch.event.prevHash)?.seq,
    after: parsed.find((e) => e?.prevHash === mismatch.event.hash)?.seq,
  });
}
