import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { normaliseNewEvent, type AuditEvent } from '../../src/audit/event.js';
import { canonicalJson, chainEvents, EMPTY_HEAD, eventHash, GENESIS_HASH, verifyChain } from '../../src/audit/hash-chain.js';
import { sampleEvents } from './fixtures.js';

function chain(count: number): AuditEvent[] {
  return chainEvents(EMPTY_HEAD, sampleEvents(count).map(normaliseNewEvent));
}

const headOf = (events: AuditEvent[]) => ({ seq: events.at(-1)!.seq, hash: events.at(-1)!.hash });

describe('canonical JSON', () => {
  it('gives the same text whatever order the keys come in, at every level, and leaves out undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: 'x', c: [2, { f: 1, e: 0 }] }, z: undefined })).toBe('{"a":{"c":[2,{"e":0,"f":1}],"d":"x"},"b":1}');
    expect(canonicalJson({ a: { c: [2, { e: 0, f: 1 }], d: 'x' }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: 'x', c: [2, { f: 1, e: 0 }] } }));
  });
});

describe('chainEvents', () => {
  it('numbers events from the head and links each to the hash of the one before', () => {
    const events = chain(3);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0]!.prevHash).toBe(GENESIS_HASH);
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(events[2]!.prevHash).toBe(events[1]!.hash);
    for (const e of events) expect(e.hash).toBe(eventHash(e));
    const more = chainEvents(headOf(events), sampleEvents(1, 4).map(normaliseNewEvent));
    expect(more[0]).toMatchObject({ seq: 4, prevHash: events[2]!.hash });
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain and reports its head', () => {
    const events = chain(5);
    expect(verifyChain(events, { store: headOf(events) })).toEqual({ ok: true, count: 5, head: headOf(events), unanchored: 0 });
  });

  it('names the edited event when a field changes', () => {
    const events = chain(5);
    events[2] = { ...events[2]!, outcome: 'no_match' };
    expect(verifyChain(events)).toMatchObject({ ok: false, problem: { kind: 'edited', seq: 3 } });
  });

  it('names the edited event when a field is added behind the application', () => {
    const events: unknown[] = chain(5);
    events[1] = { ...(events[1] as object), note: 'added' };
    expect(verifyChain(events)).toMatchObject({ ok: false, problem: { kind: 'edited', seq: 2 } });
  });

  it('names the event before a broken link when an event was rewritten with a recomputed hash', () => {
    const events = chain(5);
    const forged = { ...events[1]!, outcome: 'no_match' };
    events[1] = { ...forged, hash: eventHash(forged) };
    expect(verifyChain(events)).toMatchObject({ ok: false, problem: { kind: 'edited', seq: 2 } });
  });

  it('reports a deletion as the first missing seq', () => {
    const events = chain(6);
    events.splice(2, 2);
    expect(verifyChain(events)).toMatchObject({ ok: false, problem: { kind: 'deleted', seq: 3, detail: expect.stringContaining('events 3..4') } });
  });

  it('reports two swapped events as reordered at the first misplaced seq', () => {
    const events = chain(6);
    [events[2], events[3]] = [events[3]!, events[2]!];
    expect(verifyChain(events)).toMatchObject({ ok: false, problem: { kind: 'reordered', seq: 3 } });
  });

  it('reports events renumbered into each other’s places as reordered', () => {
    const events = chain(6);
    const third = events[2]!;
    const fourth = events[3]!;
    events[2] = { ...fourth, seq: 3 };
    events[3] = { ...third, seq: 4 };
    expect(verifyChain(events)).toMatchObject({ ok: false, problem: { kind: 'reordered', seq: 3 } });
  });

  it('reports a cut-off tail as truncated against the anchor', () => {
    const events = chain(6);
    const anchor = headOf(events);
    expect(verifyChain(events.slice(0, 4), { store: anchor })).toMatchObject({ ok: false, problem: { kind: 'truncated', seq: 5 } });
    expect(verifyChain([], { store: anchor })).toMatchObject({ ok: false, problem: { kind: 'truncated', seq: 1 } });
  });

  it('reports a chain recomputed from scratch as not matching the anchor', () => {
    const original = chain(4);
    const rewritten = chainEvents(EMPTY_HEAD, original.map(({ seq: _s, prevHash: _p, hash: _h, ...rest }) => ({ ...rest, outcome: 'no_match' })));
    expect(verifyChain(rewritten, { store: headOf(original) })).toMatchObject({ ok: false, problem: { kind: 'anchor_mismatch', seq: 4 } });
  });

  it('checks an expected head noted earlier, even when the store anchor was moved along', () => {
    const events = chain(6);
    const noted = { seq: 3, hash: events[2]!.hash };
    expect(verifyChain(events, { store: headOf(events), expected: [noted] })).toMatchObject({ ok: true });
    const rewritten = chainEvents(EMPTY_HEAD, sampleEvents(6).map((e) => normaliseNewEvent({ ...e, detail: 'changed' })));
    expect(verifyChain(rewritten, { store: headOf(rewritten), expected: [noted] })).toMatchObject({ ok: false, problem: { kind: 'anchor_mismatch', seq: 3 } });
  });

  it('reports a missing store anchor when events exist', () => {
    expect(verifyChain(chain(2), { store: null })).toMatchObject({ ok: false, problem: { kind: 'anchor_mismatch', seq: 2 } });
    expect(verifyChain([], { store: null })).toMatchObject({ ok: true, count: 0 });
  });

  it('counts events beyond the anchor without failing (a crash between append and anchor update)', () => {
    const events = chain(5);
    expect(verifyChain(events, { store: { seq: 3, hash: events[2]!.hash } })).toMatchObject({ ok: true, unanchored: 2 });
  });

  test.prop([fc.integer({ min: 0, max: 7 }), fc.constantFrom('time', 'user', 'role', 'batchId', 'row', 'messageId', 'nhsNumber', 'outcome', 'detail'), fc.string({ minLength: 1, maxLength: 8 })])(
    'detects any change to any field of any event',
    (index, field, suffix) => {
      const events = chain(8);
      const target = events[index]!;
      const current = target[field as keyof AuditEvent];
      const changed = field === 'row' ? Number(current) + suffix.length : field === 'time' ? new Date(Date.parse(String(current)) + suffix.length).toISOString() : `${String(current)}${suffix}`;
      events[index] = { ...target, [field]: changed };
      const result = verifyChain(events, { store: headOf(chain(8)) });
      expect(result).toMatchObject({ ok: false, problem: { kind: 'edited', seq: index + 1 } });
    },
  );
});
