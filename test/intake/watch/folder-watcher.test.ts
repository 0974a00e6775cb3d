import { appendFile, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../../src/audit/store.js';
import type { Principal } from '../../../src/auth/authorise.js';
import { loadConfig } from '../../../src/config.js';
import { embeddedRunner } from '../../../src/intake/runners.js';
import { submit } from '../../../src/intake/submit.js';
import { BatchProgress } from '../../../src/pipeline/progress.js';
import { FolderWatcher } from '../../../src/intake/watch/folder-watcher.js';
import { loadWatchFolderSettings, WatchFolderSettingsError } from '../../../src/intake/watch/folder-settings.js';
import { watchFolderPaths } from '../../../src/intake/watch/folder-layout.js';
import { batchPaths, listBatchIds, loadBatch, saveBatch } from '../../../src/pipeline/batch.js';
import { createLocalLimiter } from '../../../src/pipeline/limiter.js';
import { smspProvider } from '../../../src/pipeline/provider.js';
import { writeCohort } from '../../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../../src/smsp/client.js';
import { openTestAudit, readCsv, tempDir } from '../../support/pipeline.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { testSubmitter } from '../submitter.js';
import { visibleNames, waitFor } from '../../support/wait.js';

const POPULATION = { seed: 'watch-folder', size: 3000 };
const SERVICE: Principal = { userId: 'svc-inbox', roles: ['tracer'], kind: 'service' };


const list = visibleNames;

describe('a watched folder, on real folders with real writers, against the simulator', () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  let dir: string;
  let header: string;
  let rows: string[];
  const audits: AuditStore[] = [];
  const watchers: FolderWatcher[] = [];

  beforeAll(async () => {
    dir = await tempDir('watch');
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 1 });
    const settings = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: 8, maxRatePerSecond: 2000 };
    client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 8, maxRatePerSecond: 2000 }) });
    const cohort = await writeCohort({ ...POPULATION, rows: 600, outDir: `${dir}/cohort`, name: 'cohort' });
    [header, ...rows] = (await readFile(cohort.csvPath, 'utf8')).trimEnd().split('\n') as [string, ...string[]];
  });
  afterEach(async () => {
    for (const w of watchers.splice(0)) await w.stop();
    for (const a of audits.splice(0)) await a.close();
  });
  afterAll(async () => {
    client?.close();
    await simulator?.close();
  });

  /** A file of `count` distinct cohort rows starting at `first`: distinct bytes per slice. */
  const slice = (first: number, count: number) => `${[header, ...rows.slice(first, first + count)].join('\n')}\n`;

  async function startWatcher(folder: string, dataDir: string, options: { poll?: boolean } = {}): Promise<FolderWatcher> {
    const audit = await openTestAudit(dataDir);
    audits.push(audit);
    const watcher = new FolderWatcher({
      folder,
      settings: await loadWatchFolderSettings(watchFolderPaths(folder)),
      intake: { dataDir, provider: smspProvider(simulator.url), duplicateWindowHours: 24 },
      submitter: testSubmitter(SERVICE, audit),
      runner: embeddedRunner(dataDir, { caller: client, audit, maxInFlight: 8 }),
      stableMs: 600,
      reconcileMs: 60_000,
      pollMs: options.poll ? 200 : undefined,
    });
    watchers.push(watcher);
    await watcher.start();
    return watcher;
  }

  it('creates its folders owner-only and leaves dotfiles, *.part, *.tmp, *.crdownload and ~$ lock files alone', async () => {
    const folder = `${dir}/ignored`;
    await startWatcher(folder, `${dir}/ignored-data`);
    for (const sub of ['inbox', 'processing', 'done', 'failed', 'outbox']) expect((await stat(`${folder}/${sub}`)).mode & 0o777).toBe(0o700);
    const ignored = ['.hidden.csv', 'export.csv.part', 'export.tmp', 'export.csv.crdownload', '~$export.csv'];
    for (const name of ignored) await writeFile(`${folder}/inbox/${name}`, slice(0, 3));
    await sleep(2_000);
    expect(await readdir(`${folder}/inbox`)).toEqual(expect.arrayContaining(ignored));
    expect(await list(`${folder}/processing`)).toEqual([]);
  }, 30_000);

  it('waits for a slow writer to finish, then traces the whole file: input to done/, outputs to outbox/ under a time-sorted name', async () => {
    const folder = `${dir}/slow`;
    await startWatcher(folder, `${dir}/slow-data`);
    const content = slice(0, 40);
    const pieces = content.match(/[\s\S]{1,400}/g)!;
    for (const piece of pieces) {
      await appendFile(`${folder}/inbox/pas-export.csv`, piece);
      await sleep(250);
    }
    const [done] = await waitFor('the file in done/', async () => ((await list(`${folder}/done`)).length === 1 ? list(`${folder}/done`) : undefined));
    expect(done).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}-pas-export\.csv$/);
    expect(await readFile(`${folder}/done/${done}`, 'utf8')).toBe(content);
    const stem = done!.replace(/\.csv$/, '');
    const outbox = await list(`${folder}/outbox`);
    expect(outbox).toContain(`${stem}.results.csv`);
    expect(readCsv(`${folder}/outbox/${stem}.results.csv`)).toHaveLength(40);
    // One batch, for the whole file: never a half-written one.
    expect(await listBatchIds(`${dir}/slow-data`)).toHaveLength(1);
  }, 60_000);

  it('takes a file written as *.part and renamed when complete, polling for shares without file events', async () => {
    const folder = `${dir}/part`;
    await startWatcher(folder, `${dir}/part-data`, { poll: true });
    await writeFile(`${folder}/inbox/extract.csv.part`, slice(40, 10));
    await sleep(1_000);
    expect(await list(`${folder}/processing`)).toEqual([]);
    await rename(`${folder}/inbox/extract.csv.part`, `${folder}/inbox/extract.csv`);
    await waitFor('the file in done/', async () => ((await list(`${folder}/done`)).length === 1 ? true : undefined));
    const meta = await loadBatch(`${dir}/part-data`, (await listBatchIds(`${dir}/part-data`))[0]!);
    expect(meta.options).toMatchObject({ user: 'svc-inbox', priority: 'bulk' });
  }, 60_000);

  it('sends a duplicate drop, an empty file and a malformed file to failed/ with an error note saying why', async () => {
    const folder = `${dir}/refused`;
    await startWatcher(folder, `${dir}/refused-data`);
    await writeFile(`${folder}/inbox/first.csv`, slice(50, 5));
    const [first] = await waitFor('first in done/', async () => ((await list(`${folder}/done`)).length === 1 ? list(`${folder}/done`) : undefined));
    const [firstBatch] = await listBatchIds(`${dir}/refused-data`);
    await writeFile(`${folder}/inbox/copy-of-first.csv`, slice(50, 5));
    await writeFile(`${folder}/inbox/empty.csv`, '');
    await writeFile(`${folder}/inbox/shopping.csv`, 'item,quantity\napples,3\n');
    const failed = await waitFor('three files in failed/', async () => {
      const names = await list(`${folder}/failed`);
      return names.filter((n) => !n.endsWith('.error.txt')).length === 3 && names.length === 6 ? names : undefined;
    });
    const note = async (name: string) => readFile(`${folder}/failed/${failed.find((n) => n.endsWith(`-${name}.error.txt`))!}`, 'utf8');
    const duplicate = await note('copy-of-first.csv');
    expect(duplicate).toContain(`batch ${firstBatch}`);
    expect(duplicate).toContain(`${first!.replace(/\.csv$/, '')}.results.csv`);
    expect(await note('empty.csv')).toMatch(/refused as a file: .*\S/);
    expect(await note('shopping.csv')).toMatch(/item/);
    // Nothing deleted: every input is still there, byte for byte.
    expect(await readFile(`${folder}/failed/${failed.find((n) => n.endsWith('-copy-of-first.csv'))!}`, 'utf8')).toBe(slice(50, 5));
    expect(await list(`${folder}/inbox`)).toEqual([]);
  }, 60_000);

  it('on restart picks up files waiting in inbox/ and a claimed file in processing/ that never got a batch', async () => {
    const folder = `${dir}/restart`;
    const paths = watchFolderPaths(folder);
    for (const sub of [paths.inbox, paths.processing]) await mkdir(sub, { recursive: true });
    await writeFile(`${paths.inbox}/waiting.csv`, slice(60, 5));
    // As a watcher killed between its claim and the batch leaves it.
    await writeFile(`${paths.processing}/20260101T000000Z-abcdef-claimed.csv`, slice(70, 5));
    await startWatcher(folder, `${dir}/restart-data`);
    const done = await waitFor('both in done/', async () => ((await list(paths.done)).length === 2 ? list(paths.done) : undefined));
    expect(done[0]).toBe('20260101T000000Z-abcdef-claimed.csv');
    expect(done[1]).toMatch(/-waiting\.csv$/);
    expect(await list(paths.processing)).toEqual([]);
  }, 60_000);

  it('takes up what a killed watcher left: a batch without its marker, one whose marker names a dead process, one finished but never moved, one made a moment ago by a maker now dead', async () => {
    const folder = `${dir}/killed`;
    const dataDir = `${dir}/killed-data`;
    const paths = watchFolderPaths(folder);
    await mkdir(paths.processing, { recursive: true });
    const audit = await openTestAudit(dataDir);
    audits.push(audit);
    const settings = await loadWatchFolderSettings(paths);
    const intake = { dataDir, provider: smspProvider(simulator.url), duplicateWindowHours: 24, now: () => new Date(Date.now() - 5 * 60_000) };
    const held = { kind: 'embedded' as const, start: async () => ({ progress: new BatchProgress(), finished: new Promise<never>(() => undefined) }), resume: async () => ({ progress: new BatchProgress(), finished: new Promise<never>(() => undefined) }) };
    const made: string[] = [];
    for (const [i, name] of ['20260101T000000Z-aaaaaa-no-marker.csv', '20260101T000000Z-bbbbbb-dead-owner.csv', '20260101T000000Z-cccccc-finished.csv'].entries()) {
      await writeFile(`${paths.processing}/${name}`, slice(80 + i * 5, 5));
      // As the killed watcher left them: batches made (five minutes ago), never traced.
      const submitted = await submit(intake, { file: `${paths.processing}/${name}`, submitter: testSubmitter(SERVICE, audit), options: settings.options, priority: 'bulk' }, held);
      made.push(submitted.batch.id);
    }
    // pid_max is at most 2^22: no process has this id.
    await writeFile(`${paths.processing}/.20260101T000000Z-bbbbbb-dead-owner.csv.batch.json`, JSON.stringify({ batchId: made[1], host: os.hostname(), pid: 2 ** 22 + 1 }));
    await writeFile(`${paths.processing}/.20260101T000000Z-cccccc-finished.csv.batch.json`, JSON.stringify({ batchId: made[2], host: os.hostname(), pid: 2 ** 22 + 1 }));
    await saveBatch(batchPaths(dataDir, made[2]!), { ...(await loadBatch(dataDir, made[2]!)), state: 'assembled' });
    // Killed a moment ago between making the batch and naming it: its marker names only its (dead) maker.
    const recent = '20260101T000000Z-dddddd-recent.csv';
    await writeFile(`${paths.processing}/${recent}`, slice(95, 5));
    made.push((await submit({ ...intake, now: undefined }, { file: `${paths.processing}/${recent}`, submitter: testSubmitter(SERVICE, audit), options: settings.options, priority: 'bulk' }, held)).batch.id);
    await writeFile(`${paths.processing}/.${recent}.batch.json`, JSON.stringify({ host: os.hostname(), pid: 2 ** 22 + 1 }));
    await startWatcher(folder, dataDir);
    const done = await waitFor('all four in done/', async () => ((await list(paths.done)).length === 4 ? list(paths.done) : undefined));
    expect(done).toEqual(['20260101T000000Z-aaaaaa-no-marker.csv', '20260101T000000Z-bbbbbb-dead-owner.csv', '20260101T000000Z-cccccc-finished.csv', recent]);
    // Their own batches finished them: no second batch, nothing in failed/.
    expect((await listBatchIds(dataDir)).sort()).toEqual([...made].sort());
    for (const id of made) expect((await loadBatch(dataDir, id)).state).toBe('assembled');
    expect(await list(paths.failed)).toEqual([]);
    expect(await readdir(paths.processing)).toEqual([]);
  }, 60_000);

  it('two watchers on one folder claim each of 20 files dropped at once exactly once, every row traced once', async () => {
    const folder = `${dir}/pair`;
    const dataDir = `${dir}/pair-data`;
    await startWatcher(folder, dataDir);
    await startWatcher(folder, dataDir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFile(`${folder}/inbox/part-${String(i).padStart(2, '0')}.csv`, slice(100 + i * 10, 10))));
    const done = await waitFor('20 files in done/', async () => ((await list(`${folder}/done`)).length === 20 ? list(`${folder}/done`) : undefined), { timeoutMs: 120_000 });
    expect(new Set(done.map((n) => n.replace(/^.*-(part-\d\d\.csv)$/, '$1'))).size).toBe(20);
    expect(await list(`${folder}/failed`)).toEqual([]);
    const batches = await listBatchIds(dataDir);
    expect(batches).toHaveLength(20);
    let traced = 0;
    for (const id of batches) {
      const meta = await loadBatch(dataDir, id);
      expect(meta.state).toBe('assembled');
      traced += readCsv(meta.outputs!.results).length;
    }
    expect(traced).toBe(200);
  }, 150_000);
});

describe('pds-trace.json', () => {
  it('is validated, naming the file and the key', async () => {
    const folder = await tempDir('watch-settings');
    await writeFile(`${folder}/pds-trace.json`, JSON.stringify({ format: 'xml', minimal: true, colour: 'blue' }));
    const err = await loadWatchFolderSettings(watchFolderPaths(folder)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchFolderSettingsError);
    expect((err as Error).message).toContain(path.join(folder, 'pds-trace.json'));
    expect((err as Error).message).toMatch(/format: /);
    expect((err as Error).message).toMatch(/colour: /);
    await writeFile(`${folder}/pds-trace.json`, JSON.stringify({ for: 'dr.jones', mapping: 'missing.json' }));
    await expect(loadWatchFolderSettings(watchFolderPaths(folder))).rejects.toThrow(/mapping: .*missing\.json cannot be read/);
    await writeFile(`${folder}/pds-trace.json`, JSON.stringify({ for: 'dr.jones', format: 'mesh', output: 'results' }));
    expect(await loadWatchFolderSettings(watchFolderPaths(folder))).toMatchObject({ onBehalfOf: 'dr.jones', options: { format: 'mesh', outDir: path.join(folder, 'results') } });
  });
});
