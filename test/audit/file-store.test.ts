import { appendFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditEventError, type AuditEvent } from '../../src/audit/event.js';
import { ANCHOR_FILE, AuditStoreCorruptError, EVENTS_FILE, LOCK_FILE, openFileAuditStore } from '../../src/audit/file-store.js';
import { eventHash } from '../../src/audit/hash-chain.js';
import type { AuditStore } from '../../src/audit/store.js';
import { sampleEvent, sampleEvents, tempFolder } from './fixtures.js';

let folder: { dir: string; remove: () => Promise<void> };
let store: AuditStore;
const eventsPath = () => path.join(folder.dir, EVENTS_FILE);

async function lines(): Promise<string[]> {
  return (await readFile(eventsPath(), 'utf8')).split('\n').filter((l) => l !== '');
}

async function writeLines(all: string[]): Promise<void> {
  await writeFile(eventsPath(), all.map((l) => `${l}\n`).join(''));
}

beforeEach(async () => {
  folder = await tempFolder('pds-trace-audit-file-');
  store = await openFileAuditStore(folder.dir, { lockTimeoutMs: 5_000 });
});

afterEach(async () => {
  await store.close();
  await folder.remove();
});

describe('file audit store: appending', () => {
  it('numbers and chains events across appends, on disk and in the anchor', async () => {
    const first = await store.append(sampleEvents(2));
    const second = await store.append(sampleEvents(3, 3));
    expect([...first, ...second].map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(second[0]!.prevHash).toBe(first[1]!.hash);
    const stored = (await lines()).map((l) => JSON.parse(l) as AuditEvent);
    expect(stored).toEqual([...first, ...second]);
    const anchor = JSON.parse(await readFile(path.join(folder.dir, ANCHOR_FILE), 'utf8'));
    expect(anchor).toMatchObject({ seq: 5, hash: second[2]!.hash });
  });

  it('keeps its files owner-only (they hold NHS numbers)', async () => {
    await store.append(sampleEvents(1));
    expect((await stat(eventsPath())).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(folder.dir, ANCHOR_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(folder.dir)).mode & 0o077).toBe(0);
  });

  it('stores times in one canonical UTC form so hashes survive any store', async () => {
    const [event] = await store.append([sampleEvent(1, { time: '2025-03-01T10:00:00+01:00' })]);
    expect(event!.time).toBe('2025-03-01T09:00:00.000Z');
  });

  it('refuses a malformed event, naming the field and not the value', async () => {
    const bad = sampleEvent(1, { nhsNumber: '12345' });
    await expect(store.append([bad])).rejects.toThrow(AuditEventError);
    await expect(store.append([bad])).rejects.toThrow(/nhsNumber/);
    await expect(store.append([bad])).rejects.not.toThrow(/12345/);
    expect(await store.search()).toEqual([]);
  });

  it('keeps one linear chain when two store instances append at the same time', async () => {
    const other = await openFileAuditStore(folder.dir, { lockTimeoutMs: 10_000 });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? store : other).append(sampleEvents(3, i * 3 + 1))),
    );
    const stored = (await lines()).map((l) => JSON.parse(l) as AuditEvent);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    expect(await store.verify()).toMatchObject({ ok: true, count: 36, head: { seq: 36 } });
    await expect(stat(path.join(folder.dir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over the writer lock of a process that died holding it', async () => {
    await writeFile(path.join(folder.dir, LOCK_FILE), JSON.stringify({ host: os.hostname(), pid: 2 ** 22 + 12_345, token: 'dead' }));
    const [event] = await store.append(sampleEvents(1));
    expect(event!.seq).toBe(1);
  });

  it('waits for a live holder of the writer lock and gives up naming it', async () => {
    await writeFile(path.join(folder.dir, LOCK_FILE), JSON.stringify({ host: os.hostname(), pid: process.pid, token: 'someone-else' }));
    const impatient = await openFileAuditStore(folder.dir, { lockTimeoutMs: 200 });
    await expect(impatient.append(sampleEvents(1))).rejects.toThrow(new RegExp(`held by process ${process.pid}`));
  });

  it('cuts off a line torn by a crash mid-append, which was never acknowledged, and chains on', async () => {
    await store.append(sampleEvents(2));
    await appendFile(eventsPath(), '{"seq":3,"time":"2025-01');
    const [next] = await store.append(sampleEvents(1, 3));
    expect(next!.seq).toBe(3);
    expect(await lines()).toHaveLength(3);
    expect(await store.verify()).toMatchObject({ ok: true, count: 3 });
  });

  it('refuses to append after a torn line when the anchor says acknowledged events were there', async () => {
    await store.append(sampleEvents(3));
    const all = await lines();
    await writeFile(eventsPath(), `${all[0]}\n${all[1]}\n${all[2]!.slice(0, 20)}`);
    await expect(store.append(sampleEvents(1, 4))).rejects.toThrow(AuditStoreCorruptError);
  });
});

describe('file audit store: tamper detection', () => {
  beforeEach(async () => {
    await store.append(sampleEvents(10));
  });

  it('passes an untouched store', async () => {
    expect(await store.verify()).toMatchObject({ ok: true, count: 10, head: { seq: 10 }, unanchored: 0 });
  });

  it('detects an edited field and names its seq', async () => {
    const all = await lines();
    all[3] = all[3]!.replace('"outcome":"matched"', '"outcome":"no_match"');
    await writeLines(all);
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'edited', seq: 4 } });
  });

  it('detects a line that is no longer JSON as an edit', async () => {
    const all = await lines();
    all[6] = 'not json';
    await writeLines(all);
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'edited', seq: 7 } });
  });

  it('detects a deleted line and names the missing seq', async () => {
    const all = await lines();
    all.splice(4, 1);
    await writeLines(all);
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'deleted', seq: 5 } });
  });

  it('detects two swapped lines as reordered', async () => {
    const all = await lines();
    [all[5], all[6]] = [all[6]!, all[5]!];
    await writeLines(all);
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'reordered', seq: 6 } });
  });

  it('detects two events whose seq numbers were swapped in place as reordered', async () => {
    const all = (await lines()).map((l) => JSON.parse(l) as AuditEvent);
    const [a, b] = [all[1]!, all[2]!];
    all[1] = { ...b, seq: 2 };
    all[2] = { ...a, seq: 3 };
    await writeLines(all.map((e) => JSON.stringify(e)));
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'reordered', seq: 2 } });
  });

  it('detects a truncated tail against the anchor', async () => {
    const all = await lines();
    await writeLines(all.slice(0, 7));
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'truncated', seq: 8 } });
  });

  it('detects a whole file emptied', async () => {
    await writeFile(eventsPath(), '');
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'truncated', seq: 1 } });
  });

  it('detects a chain recomputed after an edit, through the anchor', async () => {
    const all = (await lines()).map((l) => JSON.parse(l) as AuditEvent);
    let prevHash = '0'.repeat(64);
    const rewritten = all.map((e) => {
      const unhashed = { ...e, outcome: 'no_match', prevHash };
      const hash = eventHash(unhashed);
      prevHash = hash;
      return { ...unhashed, hash };
    });
    await writeLines(rewritten.map((e) => JSON.stringify(e)));
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'anchor_mismatch', seq: 10 } });
  });

  it('detects a deleted anchor', async () => {
    await rm(path.join(folder.dir, ANCHOR_FILE));
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'anchor_mismatch' } });
  });

  it('checks a head noted elsewhere', async () => {
    const all = (await lines()).map((l) => JSON.parse(l) as AuditEvent);
    const noted = { seq: 5, hash: all[4]!.hash };
    expect(await store.verify({ expectedHeads: [noted] })).toMatchObject({ ok: true });
    expect(await store.verify({ expectedHeads: [{ seq: 5, hash: all[3]!.hash }] })).toMatchObject({ ok: false, problem: { kind: 'anchor_mismatch', seq: 5 } });
    expect(await store.verify({ expectedHeads: [{ seq: 12, hash: all[3]!.hash }] })).toMatchObject({ ok: false, problem: { kind: 'truncated', seq: 11 } });
  });
});
