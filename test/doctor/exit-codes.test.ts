import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import { EXIT } from '../../src/cli/errors.js';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/pki.js';
import { sampleEvents } from '../audit/fixtures.js';
import { tempDir } from '../support/pipeline.js';
import { PrivateRedis } from '../support/private-redis.js';
import { TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { runCli } from '../support/worker-process.js';

/**
 * `pds-trace doctor` as cron or a deployment script runs it: each failure the issue names ends the
 * command with exit 1 and a FAIL line for its check, and the same checks on a sound setup exit 0.
 */

const DAY = 24 * 60 * 60 * 1000;

let dir: string;
let evicting: PrivateRedis;
const scenarios: Record<string, { check: string; env: Record<string, string> }> = {};

beforeAll(async () => {
  dir = await tempDir('doctor-exit');
  const data = path.join(dir, 'data');
  await mkdir(data, { mode: 0o700 });
  const ca = await createCertificateAuthority('doctor exit CA');
  await writeFile(path.join(dir, 'ca.pem'), ca.cert);
  const tlsEnv = (name: string) => ({ PDS_TRACE_DATA_DIR: data, SMSP_URL: 'https://127.0.0.1:1/smsp', SMSP_ASID: '999000000001', SMSP_TLS_CERT: path.join(dir, `${name}.pem`), SMSP_TLS_KEY: path.join(dir, `${name}.key`), SMSP_TLS_CA: path.join(dir, 'ca.pem') });
  const expired = await issueCertificate(ca, { commonName: 'expired', usage: 'client', notBefore: new Date(Date.now() - 40 * DAY), notAfter: new Date(Date.now() - DAY) });
  const mine = await issueCertificate(ca, { commonName: 'mine', usage: 'client' });
  const other = await issueCertificate(ca, { commonName: 'other', usage: 'client' });
  for (const [name, cert, key] of [['expired', expired.cert, expired.key], ['mismatched', mine.cert, other.key], ['good', mine.cert, mine.key]] as const) {
    await writeFile(path.join(dir, `${name}.pem`), cert);
    await writeFile(path.join(dir, `${name}.key`), key, { mode: 0o600 });
  }
  scenarios['an expired certificate'] = { check: 'tls', env: tlsEnv('expired') };
  scenarios['a key that is not the certificate\'s'] = { check: 'tls', env: tlsEnv('mismatched') };

  evicting = await PrivateRedis.start();
  const admin = new Redis(evicting.url);
  await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
  admin.disconnect();
  scenarios['a Redis that may evict keys'] = { check: 'redis', env: { PDS_TRACE_DATA_DIR: data, REDIS_URL: evicting.url } };

  const audited = path.join(dir, 'audited');
  const store = await openAuditStore({ dataDir: audited });
  await store.append(sampleEvents(4));
  await store.close();
  const events = path.join(audited, 'audit', 'events.jsonl');
  await writeFile(events, (await readFile(events, 'utf8')).replace(/"seq":2,/, '"seq":2,"note":"edited",'));
  scenarios['an audit line edited'] = { check: 'audit', env: { PDS_TRACE_DATA_DIR: audited } };

  const open = path.join(dir, 'open');
  await mkdir(open);
  await chmod(open, 0o750);
  scenarios['a data folder open to others'] = { check: 'data-folder', env: { PDS_TRACE_DATA_DIR: open } };
  const watched = path.join(dir, 'watched');
  for (const sub of ['inbox', 'processing', 'done', 'failed', 'outbox']) await mkdir(path.join(watched, sub), { recursive: true, mode: 0o700 });
  await chmod(path.join(watched, 'inbox'), 0o777);
  scenarios['a watched inbox open to others'] = { check: 'watch-folders', env: { PDS_TRACE_DATA_DIR: data, PDS_TRACE_WATCH_FOLDERS: watched } };

  const schedules = path.join(dir, 'schedules.json');
  await writeFile(schedules, JSON.stringify({ schedules: [{ name: 'pas-nightly', cron: '30 2 * * *', input: 'in', out: 'out', owner: 'svc' }] }));
  scenarios['a schedule without its pending job'] = { check: 'schedules', env: { PDS_TRACE_DATA_DIR: data, PDS_TRACE_SCHEDULES: schedules, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: uniquePrefix('doctor-exit') } };
}, 60_000);
afterAll(async () => evicting?.kill());

describe('pds-trace doctor exit codes', () => {
  it('exits 1 with a FAIL line for each failure named in issue 18', async () => {
    const names = Object.keys(scenarios);
    expect(names).toHaveLength(7);
    // Side by side: each is its own process.
    const runs = names.map((name) => ({ name, ...scenarios[name]!, run: runCli(['doctor', '--json', '--only', scenarios[name]!.check], scenarios[name]!.env) }));
    for (const { name, check, run } of runs) {
      expect(await run.exited, `${name}:\n${run.output()}`).toBe(EXIT.failure);
      const report = JSON.parse(run.output()) as { ok: boolean; checks: Array<{ name: string; status: string; fix?: string }> };
      expect(report.ok, name).toBe(false);
      expect(report.checks, name).toEqual([expect.objectContaining({ name: check, status: 'FAIL', fix: expect.any(String) })]);
    }
  }, 180_000);

  it('exits 0 when the same checks pass', async () => {
    const data = path.join(dir, 'data');
    const run = runCli(['doctor', '--only', 'tls', 'redis', 'data-folder'], { PDS_TRACE_DATA_DIR: data, REDIS_URL: TEST_REDIS_URL, SMSP_URL: 'https://127.0.0.1:1/smsp', SMSP_ASID: '999000000001', SMSP_TLS_CERT: path.join(dir, 'good.pem'), SMSP_TLS_KEY: path.join(dir, 'good.key'), SMSP_TLS_CA: path.join(dir, 'ca.pem') });
    expect(await run.exited, run.output()).toBe(EXIT.ok);
    expect(run.output()).toMatch(/^0 failures, 0 warnings, 3 passed, 0 skipped$/m);
  }, 60_000);
});
