import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScheduleQueue } from '../../src/intake/schedules/schedule-queue.js';
import { claimSlot, saveRun } from '../../src/intake/schedules/schedule-runs.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { freePort } from '../support/ports.js';
import { apiSignIn, csrfTokenIn, dataFolderWithPeople, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/** `/admin/schedules` and `PUT /api/schedules`: the schedules file replaced whole, and installed in real Redis. */

const schedule = (name: string, cron = '30 4 * * *') => ({ name, cron, input: 'extracts', out: 'results', owner: 'svc-nightly' });

const put = (web: WebFixture, session: ApiSession, payload: unknown) =>
  web.app.inject({ method: 'PUT', url: '/api/schedules', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken }, payload: payload as object });

describe('schedules administered on the web', () => {
  let redis: Redis;
  let prefix: string;
  let web: WebFixture;
  let dir: string;
  let dataDir: string;
  let file: string;
  let ada: ApiSession;

  beforeAll(async () => {
    ({ dir, dataDir } = await dataFolderWithPeople());
    file = path.join(dir, 'config', 'schedules.json');
    await mkdir(path.dirname(file));
    redis = connectTestRedis();
    prefix = uniquePrefix('admin-schedules');
    web = await webApp(webConfig(dataDir, { PDS_TRACE_SCHEDULES: file, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    ada = await apiSignIn(web.app, 'ada');
  });
  afterAll(async () => {
    await web?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
  });

  async function installed(): Promise<Array<[string, string | undefined]>> {
    const queue = openScheduleQueue(redis, prefix);
    try {
      return (await queue.getJobSchedulers(0, -1)).map((j) => [j.key, j.pattern ?? undefined] as [string, string | undefined]).sort();
    } finally {
      await queue.close();
    }
  }

  it('refuses a document parseSchedules refuses, each problem by schedule and key, and leaves the file as it was', async () => {
    const before = `${JSON.stringify({ schedules: [schedule('pas-nightly')] })}\n`;
    await writeFile(file, before);
    const response = await put(web, ada, { schedules: [schedule('ok'), { ...schedule('bad'), cron: '61 * * * *' }, { ...schedule('zone'), timezone: 'Mars/Olympus' }] });
    expect(response.statusCode).toBe(422);
    const body = response.json() as { code: string; problems: string[] };
    expect(body.code).toBe('invalid_schedules');
    expect(body.problems).toEqual([expect.stringMatching(/^schedule "zone": timezone: not a time zone/)]);
    const cron = await put(web, ada, { schedules: [{ ...schedule('bad'), cron: '61 * * * *' }, schedule('bad')] });
    expect(cron.json().problems).toEqual([expect.stringMatching(/^schedule "bad": cron: /), 'schedule "bad": name: used twice']);
    expect((await put(web, ada, [schedule('a')])).statusCode).toBe(422);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(await installed()).toEqual([]);
    const refused = (await web.audit.search({ user: 'ada', kind: 'config_changed' })).map((e) => [e.outcome, e.detail]);
    expect(refused).toContainEqual(['refused', 'schedules problems=1']);
    expect(refused).toContainEqual(['refused', 'schedules problems=2']);
  });

  it('writes the file whole and owner-only, installs it in Redis as schedule sync does, and says what was added, changed and removed', async () => {
    await writeFile(file, `${JSON.stringify({ schedules: [] })}\n`, { mode: 0o644 });
    const first = await put(web, ada, { schedules: [schedule('pas-nightly'), schedule('gp-weekly', '0 4 * * 1')] });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ added: ['pas-nightly', 'gp-weekly'], changed: [], removed: [], unchanged: [], synced: true, warnings: [] });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(path.dirname(file))).toEqual(['schedules.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ schedules: [schedule('pas-nightly'), schedule('gp-weekly', '0 4 * * 1')] });
    expect(await installed()).toEqual([['gp-weekly', '0 4 * * 1'], ['pas-nightly', '30 4 * * *']]);

    const second = await put(web, ada, { schedules: [schedule('pas-nightly', '45 3 * * *'), schedule('lab-daily', '30 1 * * *')] });
    expect(second.statusCode).toBe(200);
    const answer = second.json() as { added: string[]; changed: string[]; removed: string[]; synced: boolean; warnings: string[] };
    expect(answer).toMatchObject({ added: ['lab-daily'], changed: ['pas-nightly'], removed: ['gp-weekly'], synced: true });
    // 01:30 in Europe/London is within the hour the clocks change: schedule sync's warning, passed on.
    expect(answer.warnings).toEqual([expect.stringMatching(/^schedule "lab-daily": fires within an hour of a clock change/)]);
    expect(await installed()).toEqual([['lab-daily', '30 1 * * *'], ['pas-nightly', '45 3 * * *']]);

    const events = (await web.audit.search({ user: 'ada', kind: 'config_changed' })).map((e) => [e.outcome, e.detail]);
    expect(events).toContainEqual(['schedules_changed', 'added=pas-nightly,gp-weekly changed=- removed=- synced']);
    expect(events).toContainEqual(['schedules_changed', 'added=lab-daily changed=pas-nightly removed=gp-weekly synced']);
  });

  it('lists each schedule with its next run, last run and outcome, and edits the document with an error summary listing each problem', async () => {
    const slot = new Date('2026-12-05T03:45:00Z');
    const claim = await claimSlot(dataDir, { schedule: 'pas-nightly', slot: slot.toISOString(), jobId: 'job-1', startedAt: slot.toISOString(), late: false });
    if (!claim.taken) throw new Error('slot not claimed');
    await saveRun(dataDir, { ...claim.run, state: 'failed', reason: 'the input folder was empty' });

    const page = await web.app.inject({ method: 'GET', url: '/admin/schedules', headers: { cookie: ada.cookie } });
    expect(page.statusCode).toBe(200);
    const rows = [...page.body.matchAll(/<tr class="nhsuk-table__row">\s*<td class="nhsuk-table__cell">([a-z-]+)<\/td>([\s\S]*?)<\/tr>/g)].map((m) => [m[1], m[2]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()]);
    expect(rows.map(([name]) => name)).toEqual(['pas-nightly', 'lab-daily']);
    expect(rows[0]![1]).toMatch(/45 3 \* \* \* Europe\/London \d+ \w+ \d{4} 0[34]:45 .* 5 Dec 2026 03:45 GMT failed: the input folder was empty/);
    expect(rows[1]![1]).toContain('not run yet');
    expect(page.body).toContain('&quot;lab-daily&quot;');

    const csrf = csrfTokenIn(page.body);
    const post = (document: string) =>
      web.app.inject({ method: 'POST', url: '/admin/schedules', headers: { cookie: ada.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrf, document }).toString() });
    const notJson = await post('{ "schedules": [ ');
    expect(notJson.statusCode).toBe(400);
    expect(notJson.body).toContain('nhsuk-error-summary');
    expect(notJson.body).toContain('not valid JSON');
    const two = await post(JSON.stringify({ schedules: [{ ...schedule('x'), owner: '' }, { ...schedule('y'), colour: 'blue' }] }));
    expect(two.statusCode).toBe(400);
    const summary = /<ul class="nhsuk-list nhsuk-error-summary__list">[\s\S]*?<\/ul>/.exec(two.body)?.[0] ?? '';
    expect(summary).toContain('schedule &quot;x&quot;: owner: ');
    expect(summary).toContain('schedule &quot;y&quot;: colour: ');
    // What was typed is kept for correcting.
    expect(two.body).toContain('&quot;colour&quot;:&quot;blue&quot;');
    expect(await installed()).toEqual([['lab-daily', '30 1 * * *'], ['pas-nightly', '45 3 * * *']]);

    const saved = await post(JSON.stringify({ schedules: [schedule('pas-nightly', '45 3 * * *')] }, null, 2));
    expect(saved.statusCode).toBe(200);
    expect(saved.body).toContain('The schedules were saved.');
    expect(/data-testid="schedule-changes">([\s\S]*?)<\/ul>/.exec(saved.body)?.[1]?.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()).toBe('Added: none Changed: none Removed: lab-daily');
    expect(await installed()).toEqual([['pas-nightly', '45 3 * * *']]);
  });
});

describe('schedules administered without the settings they need', () => {
  it('answers 409 naming PDS_TRACE_SCHEDULES when it is not set, and says so on the page', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const web = await webApp(webConfig(dataDir));
    try {
      const ada = await apiSignIn(web.app, 'ada');
      const response = await put(web, ada, { schedules: [] });
      expect(response.statusCode).toBe(409);
      expect(response.json()).toMatchObject({ code: 'schedules_not_configured', message: expect.stringContaining('PDS_TRACE_SCHEDULES') });
      const page = await web.app.inject({ method: 'GET', url: '/admin/schedules', headers: { cookie: ada.cookie } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('set PDS_TRACE_SCHEDULES');
    } finally {
      await web.close();
    }
  });

  it('saves the file without Redis and says it is not installed; with Redis down, saves it and answers 503', async () => {
    const { dir, dataDir } = await dataFolderWithPeople();
    const file = path.join(dir, 'schedules.json');
    const noRedis = await webApp(webConfig(dataDir, { PDS_TRACE_SCHEDULES: file }));
    try {
      const ada = await apiSignIn(noRedis.app, 'ada');
      const response = await put(noRedis, ada, { schedules: [schedule('pas-nightly')] });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ added: ['pas-nightly'], synced: false });
      const page = await noRedis.app.inject({ method: 'GET', url: '/admin/schedules', headers: { cookie: ada.cookie } });
      expect(page.body).toContain('not installed');
      expect(page.body).toContain('REDIS_URL is not set');
    } finally {
      await noRedis.close();
    }
    const down = await webApp(webConfig(dataDir, { PDS_TRACE_SCHEDULES: file, REDIS_URL: `redis://127.0.0.1:${await freePort()}` }));
    try {
      const ada = await apiSignIn(down.app, 'ada');
      const response = await put(down, ada, { schedules: [schedule('gp-weekly')] });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'schedules_not_synced', added: ['gp-weekly'], removed: ['pas-nightly'], message: expect.stringContaining('pds-trace schedule sync') });
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ schedules: [schedule('gp-weekly')] });
      expect((await down.audit.search({ user: 'ada', kind: 'config_changed' })).map((e) => e.detail)).toContainEqual('added=gp-weekly changed=- removed=pas-nightly sync_failed');
    } finally {
      await down.close();
    }
  }, 60_000);
});
