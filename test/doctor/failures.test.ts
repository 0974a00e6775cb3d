import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import { loadSchedules } from '../../src/intake/schedules/schedule-file.js';
import { openScheduleQueue, syncSchedules } from '../../src/intake/schedules/schedule-queue.js';
import { createCertificateAuthority } from '../../src/tls/pki.js';
import { sampleEvents } from '../audit/fixtures.js';
import { check, useTempRoot } from './doctor-support.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';

/**
 * The failures issue 18 names for the doctor that checks.test.ts does not reach: a CA that did not
 * sign the SMSP server, an audit line edited in place, a schedule with no pending job, and the
 * watched folders. Each on the real thing: certificates made now, the simulator over mutual TLS,
 * the shared Redis under a prefix of its own, real folders (one on another filesystem).
 */

const temp = useTempRoot('pds-doctor-failures-');
const folder = (name: string) => temp.folder(name);

describe('SMSP with a CA that did not sign its server', () => {
  let simulator: TestSimulator;
  let dir: string;
  beforeAll(async () => {
    dir = await folder('smsp');
    simulator = await startTestSimulator({ certDir: path.join(dir, 'certs') });
  });
  afterAll(async () => simulator.close());

  it('fails the probe as a TLS handshake failure, with the fix, and passes with the right CA', async () => {
    expect((await check('smsp', smspClientEnv(simulator, dir))).status).toBe('PASS');
    const stranger = await createCertificateAuthority('a CA that signed nothing of the simulator');
    await writeFile(path.join(dir, 'stranger-ca.pem'), stranger.cert);
    const report = await check('smsp', { ...smspClientEnv(simulator, dir), SMSP_TLS_CA: path.join(dir, 'stranger-ca.pem') });
    expect(report.status).toBe('FAIL');
    expect(report.fix).toMatch(/TLS handshake failed.*not trusted by SMSP_TLS_CA/);
    // Nothing was asked about anyone, either way.
    expect(Object.keys(simulator.metrics().requests)).toEqual([]);
  });
});

describe('an audit trail with a line edited in place', () => {
  it('fails naming the event, and says to keep the store as it is', async () => {
    const dir = await folder('audit-edited');
    const store = await openAuditStore({ dataDir: dir });
    await store.append(sampleEvents(6));
    await store.close();
    expect((await check('audit', { PDS_TRACE_DATA_DIR: dir })).status).toBe('PASS');
    const file = path.join(dir, 'audit', 'events.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const third = JSON.parse(lines[2]!) as { seq: number; outcome?: string; detail?: string };
    // One field of one event changed, the line's length and place kept: what someone covering a trace would do.
    lines[2] = JSON.stringify({ ...third, outcome: third.outcome === 'refused' ? 'matched' : 'refused' });
    await writeFile(file, lines.join('\n'));
    const report = await check('audit', { PDS_TRACE_DATA_DIR: dir });
    expect(report.status).toBe('FAIL');
    expect(report.summary).toMatch(new RegExp(`chain does not verify .* at event ${third.seq}`));
    expect(report.fix).toMatch(/keep the store as it is/);
  });
});

describe('a schedule without its pending job', () => {
  it('fails naming the schedule until `schedule sync` installs it, and again once its job is removed', async () => {
    const dir = await folder('schedules');
    const file = path.join(dir, 'schedules.json');
    const schedule = (name: string) => ({ name, cron: '30 2 * * *', input: 'in', out: 'out', owner: 'svc-night' });
    await writeFile(file, JSON.stringify({ schedules: [schedule('pas-nightly'), schedule('gp-weekly')] }));
    const prefix = uniquePrefix('doctor-schedules');
    const env = { PDS_TRACE_DATA_DIR: dir, PDS_TRACE_SCHEDULES: file, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix };
    const redis = connectTestRedis();
    const queue = openScheduleQueue(redis, prefix);
    try {
      const none = await check('schedules', env);
      expect(none.status).toBe('FAIL');
      expect(none.summary).toBe('not installed in Redis: pas-nightly, gp-weekly');
      expect(none.fix).toMatch(/pds-trace schedule sync/);

      await syncSchedules(queue, await loadSchedules(file));
      const synced = await check('schedules', env);
      expect(synced.status).toBe('PASS');
      expect(synced.summary).toMatch(/^2 schedule\(s\) pending: pas-nightly at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);

      await queue.removeJobScheduler('gp-weekly');
      const lost = await check('schedules', env);
      expect(lost.status).toBe('FAIL');
      expect(lost.summary).toBe('not installed in Redis: gp-weekly');
    } finally {
      await queue.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });
});

describe('watched folders', () => {
  async function watched(name: string): Promise<string> {
    const dir = await folder(name);
    for (const sub of ['inbox', 'processing', 'done', 'failed', 'outbox']) await mkdir(path.join(dir, sub), { mode: 0o700 });
    return dir;
  }
  const env = (...folders: string[]) => ({ PDS_TRACE_DATA_DIR: temp.root, PDS_TRACE_WATCH_FOLDERS: folders.join(path.delimiter) });

  it('skips with none configured, and passes folders that exist, owner-only, on one filesystem', async () => {
    expect((await check('watch-folders', { PDS_TRACE_DATA_DIR: temp.root })).status).toBe('SKIP');
    const a = await watched('watch-a');
    const b = await watched('watch-b');
    const report = await check('watch-folders', env(a, b));
    expect(report.status).toBe('PASS');
    expect(report.summary).toContain(`${a} writable, owner-only, one filesystem`);
  });

  it('fails a folder that does not exist, and one open to other users, with the chmod that mends it', async () => {
    const missing = path.join(temp.root, 'not-mounted');
    const gone = await check('watch-folders', env(missing));
    expect(gone).toMatchObject({ status: 'FAIL', summary: `${missing} does not exist` });
    const open = await watched('watch-open');
    await chmod(path.join(open, 'done'), 0o755);
    const report = await check('watch-folders', env(open));
    expect(report.status).toBe('FAIL');
    expect(report.summary).toContain(`${open}/done is open to other users (mode 755)`);
    expect(report.fix).toBe(`Run: chmod 700 ${open}/done`);
  });

  it('fails an inbox on another filesystem than processing/, where a claim by renaming cannot work', async () => {
    // /dev/shm is a tmpfs: another filesystem than the temporary folder's.
    const elsewhere = await mkdtemp('/dev/shm/pds-doctor-inbox-');
    try {
      await chmod(elsewhere, 0o700);
      const dir = await watched('watch-split');
      await rm(path.join(dir, 'inbox'), { recursive: true });
      await symlink(elsewhere, path.join(dir, 'inbox'));
      const report = await check('watch-folders', env(dir));
      expect(report.status).toBe('FAIL');
      expect(report.summary).toContain(`${dir}/inbox on another filesystem than ${dir}/processing`);
      expect(report.fix).toMatch(/one filesystem/);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('warns of sub-folders the watcher will create, and fails options it would refuse', async () => {
    const fresh = await folder('watch-fresh');
    const report = await check('watch-folders', env(fresh));
    expect(report.status).toBe('WARN');
    expect(report.summary).toMatch(/no inbox, processing, done, failed, outbox yet/);
    const bad = await watched('watch-bad-options');
    await writeFile(path.join(bad, 'pds-trace.json'), JSON.stringify({ colour: 'blue' }));
    const refused = await check('watch-folders', env(bad));
    expect(refused.status).toBe('FAIL');
    expect(refused.summary).toContain('pds-trace.json');
  });
});
