import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import type { Principal } from '../../src/auth/authorise.js';
import { loadConfig } from '../../src/config.js';
import { embeddedRunner } from '../../src/intake/runners.js';
import { FolderWatcher } from '../../src/intake/watch/folder-watcher.js';
import { watchFolderPaths } from '../../src/intake/watch/folder-layout.js';
import { loadWatchFolderSettings } from '../../src/intake/watch/folder-settings.js';
import { listBatchIds, loadBatch } from '../../src/pipeline/batch.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { openTestAudit } from '../support/pipeline.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { testSubmitter } from '../intake/submitter.js';
import { apiSignIn, csrfTokenIn, dataFolderWithPeople, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';
import { visibleNames, waitFor } from '../support/wait.js';

/**
 * `/admin/folders` and `PUT /api/folders` on real folders, and a real watcher taking the new
 * settings for the next file it claims.
 */

const POPULATION = { seed: 'admin-folders', size: 2000 };
const SERVICE: Principal = { userId: 'svc-inbox', roles: ['tracer'], kind: 'service' };


const visible = visibleNames;

describe('watched folders administered on the web', () => {
  let web: WebFixture;
  let dir: string;
  let dataDir: string;
  let first: string;
  let second: string;
  let ada: ApiSession;
  let tess: ApiSession;

  beforeAll(async () => {
    ({ dir, dataDir } = await dataFolderWithPeople());
    first = path.join(dir, 'watch', 'pas');
    second = path.join(dir, 'watch', 'gp');
    for (const f of [first, second]) await mkdir(f, { recursive: true });
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WATCH_FOLDERS: [first, second].join(path.delimiter), PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    ada = await apiSignIn(web.app, 'ada');
    tess = await apiSignIn(web.app, 'tess');
  });
  afterAll(async () => web?.close());

  const put = (session: ApiSession, payload: unknown) =>
    web.app.inject({ method: 'PUT', url: '/api/folders', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken }, payload: payload as object });

  async function events(kind: 'config_changed' | 'access_denied') {
    return (await web.audit.search({ user: 'ada', kind })).map((e) => [e.outcome, e.detail]);
  }

  it('refuses settings the watcher would refuse, naming each key, and writes nothing', async () => {
    const response = await put(ada, { folders: [{ path: first, settings: { format: 'pdf', chunkSize: -3, colour: 'blue' } }, { path: second, settings: { minimal: true } }] });
    expect(response.statusCode).toBe(422);
    const body = response.json() as { code: string; folders: Array<{ path: string; problems: string[] }> };
    expect(body.code).toBe('invalid_settings');
    expect(body.folders).toHaveLength(1);
    expect(body.folders[0]!.path).toBe(first);
    const problems = body.folders[0]!.problems.join('\n');
    expect(problems).toMatch(/^format: /m);
    expect(problems).toMatch(/^chunkSize: /m);
    expect(problems).toMatch(/^colour: /m);
    // A mapping the watcher could not read is refused as it would be at start.
    const mapping = await put(ada, { path: second, settings: { mapping: 'no-such-mapping.json' } });
    expect(mapping.statusCode).toBe(422);
    expect(mapping.json().folders[0].problems).toEqual([expect.stringMatching(/^mapping: .*no-such-mapping\.json cannot be read$/)]);
    // Nothing written, not even the valid folder's: all or nothing.
    for (const f of [first, second]) await expect(stat(path.join(f, 'pds-trace.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await events('config_changed')).toEqual(expect.arrayContaining([['refused', `folder=${first} problems=3`], ['refused', `folder=${second} problems=1`]]));
  });

  it('writes pds-trace.json whole and owner-only, leaving no temporary file, and audits each folder changed', async () => {
    await writeFile(path.join(first, 'pds-trace.json'), '{"format":"native"}\n', { mode: 0o644 });
    const settings = { for: 'dr.jones', format: 'mesh', fallbacks: ['search_without_postcode'], chunkSize: 200 };
    const response = await put(ada, { folders: [{ path: `${first}/`, settings }, { path: second, settings: { bom: true } }] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ folders: [{ path: first, settings }, { path: second, settings: { bom: true } }] });
    const file = path.join(first, 'pds-trace.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(settings);
    // Replaced by a new file (a rename), not rewritten in place: the old mode is gone with it.
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(first)).toEqual(['pds-trace.json']);
    expect(await loadWatchFolderSettings(watchFolderPaths(first))).toMatchObject({ onBehalfOf: 'dr.jones', options: { format: 'mesh', chunkSize: 200 } });
    expect(await events('config_changed')).toEqual(expect.arrayContaining([['folder_settings_changed', `folder=${first}`], ['folder_settings_changed', `folder=${second}`]]));
  });

  it('changes only the folders this deployment watches, never a path a request names', async () => {
    const outside = path.join(dir, 'elsewhere');
    await mkdir(outside);
    for (const target of [outside, path.join(first, '..', 'elsewhere'), 'watch/pas', path.join(first, 'inbox'), '/etc']) {
      const before = (await events('access_denied')).length;
      const response = await put(ada, { path: target, settings: {} });
      expect(response.statusCode, target).toBe(404);
      expect(response.json()).toMatchObject({ code: 'unknown_folder' });
      // Refused as the access hook refuses, without the path (it could be anything).
      expect((await events('access_denied')).slice(before)).toEqual([['refused', 'web=PUT /api/folders folder not watched by this deployment']]);
    }
    expect(await readdir(outside)).toEqual([]);
    // Malformed requests: said so, nothing written.
    for (const payload of [{}, { folders: [] }, { folders: [{ path: first }] }, { path: first, settings: {}, folders: [] }]) {
      expect((await put(ada, payload)).statusCode, JSON.stringify(payload)).toBe(400);
    }
  });

  it('is refused to a role without config.change, audited by the access hook', async () => {
    const response = await put(tess, { path: first, settings: {} });
    expect(response.statusCode).toBe(403);
    const denied = (await web.audit.search({ user: 'tess', kind: 'access_denied' })).map((e) => e.detail);
    expect(denied).toContain('api=PUT /api/folders');
    expect((await web.app.inject({ method: 'GET', url: '/admin/folders', headers: { cookie: tess.cookie } })).statusCode).toBe(403);
  });

  it('shows each folder\'s state as counts, with set-aside files counted by reason, and changes settings through the form', async () => {
    const paths = watchFolderPaths(second);
    for (const sub of [paths.inbox, paths.processing, paths.failed, paths.done]) await mkdir(sub, { recursive: true });
    await writeFile(path.join(paths.inbox, 'waiting-1.csv'), 'x');
    await writeFile(path.join(paths.inbox, 'waiting-2.csv'), 'x');
    await writeFile(path.join(paths.inbox, 'copying.csv.part'), 'x');
    await writeFile(path.join(paths.processing, '20261206T010000Z-abcdef-busy.csv'), 'x');
    await writeFile(path.join(paths.done, '20261206T000000Z-abcdef-finished.csv'), 'x');
    for (const [name, code] of [['a.csv', 'no_rows'], ['b.csv', 'no_rows'], ['c.csv', 'settings_invalid']]) {
      await writeFile(path.join(paths.failed, name!), 'x');
      await writeFile(path.join(paths.failed, `${name}.error.txt`), `${name} was not traced: because\nreason: ${code}\n`);
    }
    const page = await web.app.inject({ method: 'GET', url: '/admin/folders', headers: { cookie: ada.cookie } });
    expect(page.statusCode).toBe(200);
    const html = page.body;
    const count = (id: string) => new RegExp(`data-testid="folder-1-${id}">(\\d+)<`).exec(html)?.[1];
    expect([count('inbox'), count('processing'), count('failed'), count('done')]).toEqual(['2', '1', '3', '1']);
    expect(html).toContain('2: the file has no data rows');
    expect(html).toContain('1: the folder&#39;s settings (pds-trace.json) had a mistake');
    // Counts only: no file name from the folder is shown.
    for (const name of ['waiting-1', 'busy', 'finished', 'a.csv']) expect(html).not.toContain(name);
    expect(html).toContain('value="dr.jones"');

    const csrf = csrfTokenIn(html);
    const form = (fields: Record<string, string>) =>
      web.app.inject({ method: 'POST', url: '/admin/folders', headers: { cookie: ada.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrf, folder: second, ...fields }).toString() });
    const bad = await form({ format: 'native', chunkSize: 'lots' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('nhsuk-error-summary');
    expect(bad.body).toContain('href="#folder-1-chunkSize"');
    expect(bad.body).toContain('value="lots"');
    expect(JSON.parse(await readFile(paths.settings, 'utf8'))).toEqual({ bom: true });

    const good = await form({ format: 'mesh', for: 'dr.patel', monthFirst: 'true', fallbacks: 'search_when_not_verified', chunkSize: '' });
    expect(good.statusCode).toBe(303);
    expect(good.headers.location).toBe(`/admin/folders?changed=${encodeURIComponent(second)}`);
    expect(JSON.parse(await readFile(paths.settings, 'utf8'))).toEqual({ for: 'dr.patel', format: 'mesh', fallbacks: ['search_when_not_verified'], monthFirst: true });
    expect((await web.app.inject({ method: 'GET', url: good.headers.location as string, headers: { cookie: ada.cookie } })).body).toContain('were saved');

    const elsewhere = await web.app.inject({ method: 'POST', url: '/admin/folders', headers: { cookie: ada.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrf, folder: '/tmp', format: 'native' }).toString() });
    expect(elsewhere.statusCode).toBe(404);
  });

  describe('a running watcher', () => {
    let simulator: TestSimulator;
    let client: SmspClient;
    let audit: AuditStore;
    let watcher: FolderWatcher;
    const watchData = () => path.join(dir, 'watch-data');

    beforeAll(async () => {
      simulator = await startTestSimulator({ ...POPULATION, latencyMs: 1 });
      const smsp = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: 8, maxRatePerSecond: 2000 };
      client = await createSmspClient(smsp, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 8, maxRatePerSecond: 2000 }) });
      audit = await openTestAudit(watchData());
    });
    afterAll(async () => {
      await watcher?.stop();
      await audit?.close();
      client?.close();
      await simulator?.close();
    });

    it('traces the next file it claims with the settings changed on the web, and sets a file aside when they have a mistake', async () => {
      const paths = watchFolderPaths(first);
      expect((await put(ada, { path: first, settings: { format: 'native' } })).statusCode).toBe(200);
      watcher = new FolderWatcher({
        folder: first,
        settings: await loadWatchFolderSettings(paths),
        intake: { dataDir: watchData(), provider: smspProvider(simulator.url), duplicateWindowHours: 24 },
        submitter: testSubmitter(SERVICE, audit),
        runner: embeddedRunner(watchData(), { caller: client, audit, maxInFlight: 8 }),
        stableMs: 300,
        reconcileMs: 60_000,
      });
      await watcher.start();
      const cohort = await writeCohort({ ...POPULATION, rows: 30, outDir: path.join(dir, 'cohort'), name: 'cohort' });
      const [header, ...rows] = (await readFile(cohort.csvPath, 'utf8')).trimEnd().split('\n');
      const slice = (from: number) => `${[header, ...rows.slice(from, from + 10)].join('\n')}\n`;
      const doneCount = (n: number) => waitFor(`${n} files in done/`, async () => ((await visible(paths.done)).length === n ? true : undefined));

      await writeFile(path.join(paths.inbox, 'one.csv'), slice(0));
      await doneCount(1);
      const [firstBatch] = await listBatchIds(watchData());
      expect((await loadBatch(watchData(), firstBatch!)).options).toMatchObject({ format: 'native', outDir: paths.outbox });

      // Changed while the watcher runs: the next file is traced for dr.jones, in MESH layout, into another folder.
      expect((await put(ada, { path: first, settings: { for: 'dr.jones', format: 'mesh', output: 'mesh-results' } })).statusCode).toBe(200);
      await writeFile(path.join(paths.inbox, 'two.csv'), slice(10));
      await doneCount(2);
      const secondBatch = (await listBatchIds(watchData())).find((id) => id !== firstBatch)!;
      const meta = await loadBatch(watchData(), secondBatch);
      expect(meta.options).toMatchObject({ format: 'mesh', outDir: path.join(first, 'mesh-results'), onBehalfOf: 'dr.jones' });
      expect((await stat(path.join(first, 'mesh-results'))).mode & 0o777).toBe(0o700);
      expect((await visible(path.join(first, 'mesh-results'))).length).toBeGreaterThan(0);

      // A mistake made by hand: the next file is set aside with the reason, the watcher goes on.
      await writeFile(paths.settings, '{"format": "mesh", "minimal": "yes"}\n');
      await writeFile(path.join(paths.inbox, 'three.csv'), slice(20));
      const failed = await waitFor('the file set aside', async () => {
        const names = await visible(paths.failed);
        return names.length === 2 ? names : undefined;
      });
      const note = await readFile(path.join(paths.failed, failed.find((n) => n.endsWith('.error.txt'))!), 'utf8');
      expect(note).toMatch(/had a mistake: minimal: /);
      expect(note).toMatch(/^reason: settings_invalid$/m);
      expect(await listBatchIds(watchData())).toHaveLength(2);
      const page = await web.app.inject({ method: 'GET', url: '/admin/folders', headers: { cookie: ada.cookie } });
      expect(page.body).toContain('data-testid="folder-0-failed">1<');
      expect(page.body).toContain('data-testid="folder-0-done">2<');
    }, 120_000);
  });
});
