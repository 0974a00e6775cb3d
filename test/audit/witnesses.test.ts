import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordedUsers } from '../support/accounts.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { ANCHOR_FILE, EVENTS_FILE } from '../../src/audit/file-store.js';
import { eventHash, GENESIS_HASH, type ChainHead } from '../../src/audit/hash-chain.js';
import { PIN_FILE } from '../../src/audit/store-pin.js';
import { auditDir, openAuditStore, type AuditStore } from '../../src/audit/store.js';
import { collectWitnesses, findMissingEvents, nameWitness, withMissingEvents } from '../../src/audit/witnesses.js';
import { hashPassword } from '../../src/auth/password.js';
import { UserStore } from '../../src/auth/users.js';
import { EXIT } from '../../src/cli/errors.js';
import { runCli } from '../auth/cli-harness.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from '../auth/fixtures.js';
import { sampleEvents, tempFolder } from './fixtures.js';

/**
 * The insider's best move on a file store: re-chain the whole file without some events and
 * re-anchor it. The chain and its anchor then agree; what is kept outside them does not.
 */

let folder: { dir: string; remove: () => Promise<void> };
let store: AuditStore;
let head: ChainHead;
const eventsPath = () => path.join(auditDir(folder.dir), EVENTS_FILE);

/** A batch folder as the pipeline leaves it: results naming each exchange, batch.json naming its summary. */
async function writeBatch(batchId: string, events: readonly AuditEvent[], witness: ChainHead | undefined): Promise<void> {
  const dir = path.join(folder.dir, 'batches', batchId);
  await mkdir(path.join(dir, 'results'), { recursive: true });
  const mine = events.filter((e) => e.batchId === batchId);
  const rows = mine.map((e) => JSON.stringify({ rowNumber: e.row, status: 'matched', reason: 'ok', exchanges: [{ messageId: e.messageId, attempt: 1 }] }));
  await writeFile(path.join(dir, 'results', '00000.jsonl'), `${rows.join('\n')}\n`);
  const summaryJson = path.join(folder.dir, 'out', `${batchId}.summary.json`);
  await mkdir(path.dirname(summaryJson), { recursive: true });
  await writeFile(summaryJson, JSON.stringify({ batchId, rows: mine.length, ...(witness ? { auditHead: witness } : {}) }));
  await writeFile(path.join(dir, 'batch.json'), JSON.stringify({ id: batchId, state: 'assembled', outputs: { summaryJson } }));
}

/** Re-chains the file without the events `drop` selects and re-anchors it: verify alone passes. */
async function rechainWithout(drop: (e: AuditEvent) => boolean): Promise<void> {
  const kept = (await readFile(eventsPath(), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent).filter((e) => !drop(e));
  let prevHash = GENESIS_HASH;
  const rechained = kept.map((e, i) => {
    const unhashed = { ...e, seq: i + 1, prevHash };
    prevHash = eventHash(unhashed);
    return { ...unhashed, hash: prevHash };
  });
  await writeFile(eventsPath(), rechained.map((e) => `${JSON.stringify(e)}\n`).join(''));
  await writeFile(path.join(auditDir(folder.dir), ANCHOR_FILE), JSON.stringify({ seq: rechained.length, hash: prevHash }));
}

beforeEach(async () => {
  folder = await tempFolder('pds-trace-witness-');
  store = await openAuditStore({ dataDir: folder.dir });
  const events = await store.append(sampleEvents(9));
  head = await store.currentHead();
  expect(head).toEqual({ seq: 9, hash: events[8]!.hash });
  await writeBatch('batch-1', events, head);
  await writeBatch('batch-2', events, undefined);
});

afterEach(async () => {
  await store.close();
  await folder.remove();
});

describe('witness heads', () => {
  it('finds the head each batch summary recorded, through batch.json, and in a folder of copied summaries', async () => {
    expect(await collectWitnesses(folder.dir)).toEqual([{ head, source: path.join(folder.dir, 'out', 'batch-1.summary.json') }]);
    expect((await collectWitnesses(path.join(folder.dir, 'out'))).map((w) => w.head)).toEqual([head]);
  });

  it('catches a re-chained file without some events, which the store’s own anchor no longer can', async () => {
    await rechainWithout((e) => e.seq === 4);
    expect(await store.verify()).toMatchObject({ ok: true, count: 8 });
    const witnesses = await collectWitnesses(folder.dir);
    const result = nameWitness(await store.verify({ expectedHeads: witnesses.map((w) => w.head) }), witnesses);
    expect(result).toMatchObject({ ok: false, problem: { kind: 'truncated', detail: expect.stringContaining('(witness: ') } });
  });

  it('passes an untouched trail with its witnesses', async () => {
    const witnesses = await collectWitnesses(folder.dir);
    expect(await store.verify({ expectedHeads: witnesses.map((w) => w.head) })).toMatchObject({ ok: true });
  });
});

describe('message ids in batch folders', () => {
  it('finds none missing in an untouched trail', async () => {
    expect(await findMissingEvents(store, folder.dir)).toEqual([]);
  });

  it('names the batch whose exchanges lost their events, with a message id to search for', async () => {
    await rechainWithout((e) => e.batchId === 'batch-2' && e.seq === 5);
    const missing = await findMissingEvents(store, folder.dir);
    expect(missing).toEqual([{ batchId: 'batch-2', count: 1, example: 'MSG-0005' }]);
    const result = withMissingEvents(await store.verify(), missing);
    expect(result).toMatchObject({ ok: false, problem: { kind: 'missing_events', detail: expect.stringContaining('batch batch-2: 1, e.g. message MSG-0005') } });
    expect(JSON.stringify(result)).not.toMatch(/\d{10}/);
  });
});

describe('pds-trace audit verify with witnesses', () => {
  let env: Record<string, string>;

  beforeEach(async () => {
    env = { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_PASSWORD: GOOD_PASSWORD };
    const users = await recordedUsers(folder.dir);
    const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    await users.add({ id: 'ada', roles: ['admin'], kind: 'person', passwordHash });
    await users.add({ id: 'aud', roles: ['auditor'], kind: 'person', passwordHash });
  });

  it('reports a re-chained trail through the data folder’s batch summaries by default', async () => {
    await rechainWithout((e) => e.seq === 2);
    const run = await runCli(['audit', 'verify', '--as', 'aud'], env);
    // The users' digests follow the samples, so the witnessed head (seq 9) now lies inside the
    // rewritten chain (anchor_mismatch) rather than past its end (truncated): caught either way.
    expect(run.stdout).toMatch(/NOT intact: (truncated|anchor_mismatch) .* \(witness: .*batch-1\.summary\.json\)/);
    expect(run.error).toMatchObject({ exitCode: EXIT.failure });
  });

  it('reports exchanges missing from the trail when no witness head covers them', async () => {
    await rechainWithout((e) => e.batchId === 'batch-2');
    const summary = path.join(folder.dir, 'out', 'batch-1.summary.json');
    await writeFile(summary, JSON.stringify({ batchId: 'batch-1' }));
    const run = await runCli(['audit', 'verify', '--as', 'aud'], env);
    expect(run.stdout).toMatch(/NOT intact: missing_events: 3 exchange\(s\) in 1 batch folder\(s\) have no audit event/);
  });

  it('reports a store deleted together with its pin, through the traced batch folders it leaves behind', async () => {
    await rm(auditDir(folder.dir), { recursive: true });
    await rm(path.join(folder.dir, PIN_FILE));
    const run = await runCli(['audit', 'verify', '--as', 'aud'], env);
    expect(run.stdout).toMatch(/NOT intact: missing at event 1: the audit store is gone, yet the data folder was used before \(batch batch-\d has traced results\)/);
  });

  it('takes witnesses from a folder given with --witnesses (summaries copied off the machine)', async () => {
    const archive = await tempFolder('pds-trace-witness-archive-');
    try {
      await writeFile(path.join(archive.dir, 'batch-1.summary.json'), JSON.stringify({ auditHead: head }));
      await writeFile(path.join(folder.dir, 'out', 'batch-1.summary.json'), JSON.stringify({ batchId: 'batch-1' }));
      await rechainWithout((e) => e.seq === 9);
      const run = await runCli(['audit', 'verify', '--witnesses', archive.dir, '--as', 'aud'], env);
      expect(run.stdout).toMatch(/NOT intact: (truncated|anchor_mismatch) .*witness: .*pds-trace-witness-archive-/);
    } finally {
      await archive.remove();
    }
  });
});
