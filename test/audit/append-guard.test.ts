import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.js';
import { ANCHOR_FILE, AuditStoreCorruptError, EVENTS_FILE, openFileAuditStore } from '../../src/audit/file-store.js';
import { eventHash, GENESIS_HASH } from '../../src/audit/hash-chain.js';
import { PIN_FILE } from '../../src/audit/store-pin.js';
import { auditDir, openAuditStore } from '../../src/audit/store.js';
import { sampleEvents, tempFolder } from './fixtures.js';

/**
 * An insider with a shell cuts, re-anchors or deletes the file store, then lets pds-trace carry
 * on: every append must refuse, so the tampering never gets chained over and re-anchored.
 */

let folder: { dir: string; remove: () => Promise<void> };
const config = () => ({ dataDir: folder.dir });
const eventsPath = () => path.join(auditDir(folder.dir), EVENTS_FILE);
const anchorPath = () => path.join(auditDir(folder.dir), ANCHOR_FILE);

async function lines(): Promise<string[]> {
  return (await readFile(eventsPath(), 'utf8')).split('\n').filter((l) => l !== '');
}

async function writeLines(all: string[]): Promise<void> {
  await writeFile(eventsPath(), all.map((l) => `${l}\n`).join(''));
}

async function appendRefused(reason: RegExp): Promise<void> {
  const store = await openAuditStore(config());
  const before = await readFile(eventsPath(), 'utf8').catch(() => '');
  const error = await store.append(sampleEvents(1, 99)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AuditStoreCorruptError);
  expect((error as Error).message).toMatch(reason);
  expect((error as Error).message).toMatch(/nothing was appended.*audit verify/);
  expect(await readFile(eventsPath(), 'utf8').catch(() => '')).toBe(before);
}

beforeEach(async () => {
  folder = await tempFolder('pds-trace-audit-guard-');
  const store = await openAuditStore(config());
  await store.append(sampleEvents(6));
});

afterEach(async () => {
  await folder.remove();
});

describe('file audit store: an append chains only onto the anchored head', () => {
  it('refuses to append to a file whose last lines were cut', async () => {
    await writeLines((await lines()).slice(0, 4));
    await appendRefused(/ends at event 4 but anchor\.json records event 6: events were cut off/);
  });

  it('refuses to append when the anchor was deleted but events remain', async () => {
    await rm(anchorPath());
    await appendRefused(/anchor\.json is missing but events\.jsonl holds events up to 6/);
  });

  it('refuses a forged append onto a cut store whose anchor was moved back to the cut, but not to its hash', async () => {
    await writeLines((await lines()).slice(0, 4));
    await writeFile(anchorPath(), JSON.stringify({ seq: 4, hash: 'e'.repeat(64) }));
    await appendRefused(/event 4 is not the anchored head/);
  });

  it('refuses when the last event is not the anchored head (the file was re-chained)', async () => {
    const all = (await lines()).map((l) => JSON.parse(l) as AuditEvent);
    let prevHash = GENESIS_HASH;
    const rechained = all.map((e) => {
      const unhashed = { ...e, outcome: 'no_match', prevHash };
      prevHash = eventHash(unhashed);
      return { ...unhashed, hash: prevHash };
    });
    await writeLines(rechained.map((e) => JSON.stringify(e)));
    await appendRefused(/event 6 is not the anchored head: the file was rewritten/);
  });

  it('chains onto events beyond the anchor only when the chain verifies up to it (a crash before re-anchoring)', async () => {
    const store = await openAuditStore(config());
    const all = await lines();
    const third = JSON.parse(all[2]!) as AuditEvent;
    await writeFile(anchorPath(), JSON.stringify({ seq: 3, hash: third.hash }));
    const [next] = await store.append(sampleEvents(1, 7));
    expect(next!.seq).toBe(7);
    await writeFile(anchorPath(), JSON.stringify({ seq: 3, hash: 'f'.repeat(64) }));
    await appendRefused(/anchor_mismatch at event 3/);
  });
});

describe('file audit store: a missing store in a used data folder', () => {
  it('refuses to start a new chain when both files were deleted, and verify reports the store missing', async () => {
    await rm(eventsPath());
    await rm(anchorPath());
    await appendRefused(/the store is missing but the data folder was used before \(audit-store\.json names the file store\)/);
    const store = await openAuditStore(config());
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'missing' } });
  });

  it('refuses when the whole audit folder was deleted', async () => {
    await rm(auditDir(folder.dir), { recursive: true });
    await appendRefused(/the store is missing/);
  });

  it('refuses to start a chain in a folder with no pin but traced batches (pin deleted too, or a pre-pin deployment)', async () => {
    await rm(auditDir(folder.dir), { recursive: true });
    await rm(path.join(folder.dir, PIN_FILE));
    await mkdir(path.join(folder.dir, 'batches', 'b-1', 'results'), { recursive: true });
    await writeFile(path.join(folder.dir, 'batches', 'b-1', 'results', '00000.jsonl'), '');
    const store = await openAuditStore(config());
    await expect(store.append(sampleEvents(1))).rejects.toThrow(/the store is missing but the data folder was used before \(batch b-1 has traced results\)/);
    expect(await store.verify()).toMatchObject({ ok: false, problem: { kind: 'missing' } });
  });

  it('starts a chain in an unused data folder, and treats a store on its own (no data folder) as new', async () => {
    const fresh = await tempFolder('pds-trace-audit-fresh-');
    try {
      const store = await openAuditStore({ dataDir: fresh.dir });
      expect(await store.currentHead()).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(await store.verify()).toMatchObject({ ok: true, count: 0 });
      const [first] = await store.append(sampleEvents(1));
      expect(await store.currentHead()).toEqual({ seq: 1, hash: first!.hash });
      const standalone = await openFileAuditStore(path.join(fresh.dir, 'standalone'));
      expect((await standalone.append(sampleEvents(1)))[0]!.seq).toBe(1);
    } finally {
      await fresh.remove();
    }
  });

  it('gives its head only when an append could chain onto it', async () => {
    await writeLines((await lines()).slice(0, 5));
    const store = await openAuditStore(config());
    await expect(store.currentHead()).rejects.toThrow(AuditStoreCorruptError);
  });
});
