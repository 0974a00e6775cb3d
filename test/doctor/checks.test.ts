import { appendFile, chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../../src/audit/store.js';
import { hashPassword } from '../../src/auth/password.js';
import { runChecks, type DoctorCheck } from '../../src/doctor/check.js';
import { doctorContext, runDoctor, UnknownCheckError } from '../../src/doctor/index.js';
import { createCertificateAuthority, issueCertificate, type KeyPair } from '../../src/tls/pki.js';
import { startTestSimulator, smspClientEnv, type TestSimulator } from '../support/simulator.js';
import { recordedUsers } from '../support/accounts.js';
import { PrivateRedis } from '../support/private-redis.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { sampleEvents } from '../audit/fixtures.js';
import { check, useTempRoot } from './doctor-support.js';

const DAY = 24 * 60 * 60 * 1000;
const FAST = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

const temp = useTempRoot('pds-doctor-');
const folder = (name: string) => temp.folder(name);

describe('running checks', () => {
  const context = doctorContext({ PDS_TRACE_DATA_DIR: '/nonexistent' });
  const hangs: DoctorCheck = { name: 'hangs', title: 'Hangs', timeoutMs: 100, run: () => new Promise(() => {}) };
  const crashes: DoctorCheck = { name: 'crashes', title: 'Crashes', run: async () => { throw new Error('boom'); } };
  const fine: DoctorCheck = { name: 'fine', title: 'Fine', run: async () => ({ status: 'PASS', summary: 'ok' }) };

  it('reports a check that hangs or crashes as a FAIL of that check and still runs the others', async () => {
    const reports = await runChecks([hangs, crashes, fine], context);
    expect(reports.map((r) => [r.name, r.status])).toEqual([['hangs', 'FAIL'], ['crashes', 'FAIL'], ['fine', 'PASS']]);
    expect(reports[0]!.summary).toMatch(/did not finish within/);
    expect(reports[1]!.summary).toMatch(/the check itself failed: boom/);
  });

  it('runs only the named checks, and refuses a name it does not know', async () => {
    expect((await runChecks([hangs, crashes, fine], context, { only: ['fine'] })).map((r) => r.name)).toEqual(['fine']);
    await expect(runChecks([fine], context, { only: ['nope'] })).rejects.toBeInstanceOf(UnknownCheckError);
  });

  it('skips every check but the configuration one when the settings are invalid, naming the bad setting', async () => {
    const reports = await runDoctor(doctorContext({ SMSP_MAX_RATE: 'lots' }));
    expect(reports[0]).toMatchObject({ name: 'config', status: 'FAIL' });
    expect(reports[0]!.summary).toMatch(/SMSP_MAX_RATE/);
    expect(reports.slice(1).every((r) => r.status === 'SKIP')).toBe(true);
  });
});

describe('TLS material', () => {
  let ca: KeyPair;
  let dir: string;
  const baseEnv = (files: Record<string, string>) => ({ PDS_TRACE_DATA_DIR: dir, SMSP_URL: 'https://127.0.0.1:1/smsp', SMSP_ASID: '999000000001', ...files });

  async function material(name: string, cert: KeyPair, key: string = cert.key, caCert: string = ca.cert): Promise<{ SMSP_TLS_CERT: string; SMSP_TLS_KEY: string; SMSP_TLS_CA: string }> {
    const files = { SMSP_TLS_CERT: path.join(dir, `${name}.pem`), SMSP_TLS_KEY: path.join(dir, `${name}.key`), SMSP_TLS_CA: path.join(dir, `${name}-ca.pem`) };
    await writeFile(files.SMSP_TLS_CERT, cert.cert);
    await writeFile(files.SMSP_TLS_KEY, key, { mode: 0o600 });
    await writeFile(files.SMSP_TLS_CA, caCert);
    return files;
  }

  beforeAll(async () => {
    dir = await folder('tls');
    ca = await createCertificateAuthority('doctor test CA');
  });

  it('passes a certificate in date whose key matches and that chains to the CA', async () => {
    const cert = await issueCertificate(ca, { commonName: 'good client', usage: 'client' });
    const report = await check('tls', baseEnv(await material('good', cert)));
    expect(report.status).toBe('PASS');
    expect(report.summary).toMatch(/valid until \d{4}-\d{2}-\d{2}/);
    expect(report.summary).toMatch(/chains to SMSP_TLS_CA/);
  });

  it('warns with the date when the certificate expires within 30 days', async () => {
    const notAfter = new Date(Date.now() + 10 * DAY);
    const cert = await issueCertificate(ca, { commonName: 'soon', usage: 'client', notAfter });
    const report = await check('tls', baseEnv(await material('soon', cert)));
    expect(report.status).toBe('WARN');
    expect(report.summary).toContain(`expires on ${notAfter.toISOString().slice(0, 10)}`);
    expect(report.fix).toMatch(/renewed endpoint certificate/);
  });

  it('fails an expired certificate, naming the day it expired', async () => {
    const notAfter = new Date(Date.now() - 2 * DAY);
    const cert = await issueCertificate(ca, { commonName: 'old', usage: 'client', notBefore: new Date(Date.now() - 40 * DAY), notAfter });
    const report = await check('tls', baseEnv(await material('old', cert)));
    expect(report.status).toBe('FAIL');
    expect(report.summary).toContain(`expired on ${notAfter.toISOString().slice(0, 10)}`);
  });

  it('fails a key that is not the certificate\'s, and a file that cannot be read, naming the setting', async () => {
    const cert = await issueCertificate(ca, { commonName: 'mine', usage: 'client' });
    const other = await issueCertificate(ca, { commonName: 'other', usage: 'client' });
    const mismatch = await check('tls', baseEnv(await material('mismatch', cert, other.key)));
    expect(mismatch.status).toBe('FAIL');
    expect(mismatch.summary).toMatch(/SMSP_TLS_CERT: unusable TLS material/);
    const files = await material('gone', cert);
    const missing = await check('tls', baseEnv({ ...files, SMSP_TLS_KEY: path.join(dir, 'no-such.key') }));
    expect(missing.status).toBe('FAIL');
    expect(missing.summary).toContain('SMSP_TLS_KEY: cannot read');
    expect(missing.fix).toMatch(/SMSP_TLS_KEY/);
  });

  it('warns when the certificate was issued by another CA than SMSP_TLS_CA', async () => {
    const stranger = await createCertificateAuthority('another CA');
    const cert = await issueCertificate(stranger, { commonName: 'elsewhere', usage: 'client' });
    const report = await check('tls', baseEnv(await material('elsewhere', cert)));
    expect(report.status).toBe('WARN');
    expect(report.summary).toMatch(/does not chain/);
  });

  it('reads the certificate inside a PKCS#12 file, and fails a wrong passphrase without printing it', async () => {
    const cert = await issueCertificate(ca, { commonName: 'pfx client', usage: 'client' });
    const files = await material('pfx', cert);
    const pfx = path.join(dir, 'client.p12');
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['pkcs12', '-export', '-in', files.SMSP_TLS_CERT, '-inkey', files.SMSP_TLS_KEY, '-certfile', files.SMSP_TLS_CA, '-out', pfx, '-passout', 'pass:synthetic-pass']);
    const env = { ...baseEnv({}), SMSP_TLS_PFX: pfx, SMSP_TLS_CA: files.SMSP_TLS_CA };
    const good = await check('tls', { ...env, SMSP_TLS_PASSPHRASE: 'synthetic-pass' });
    expect(good.status).toBe('PASS');
    expect(good.summary).toContain('"pfx client" valid until');
    const wrong = await check('tls', { ...env, SMSP_TLS_PASSPHRASE: 'not-the-pass' });
    expect(wrong.status).toBe('FAIL');
    expect(wrong.summary).toMatch(/SMSP_TLS_PFX/);
    expect(JSON.stringify(wrong)).not.toContain('not-the-pass');
  });
});

describe('SMSP over mutual TLS', () => {
  let simulator: TestSimulator;
  let dir: string;
  beforeAll(async () => {
    dir = await folder('smsp');
    simulator = await startTestSimulator({ certDir: path.join(dir, 'certs') });
  });
  afterAll(async () => {
    await simulator.close();
  });

  it('passes when the endpoint answers over mutual TLS, without a patient lookup', async () => {
    const report = await check('smsp', smspClientEnv(simulator, dir));
    expect(report.status).toBe('PASS');
    expect(report.summary).toMatch(/answered over mutual TLS \(HTTP \d{3} to a GET/);
    // A GET is not an SMSP request: nothing was asked about anyone.
    expect(Object.keys(simulator.metrics().requests)).toEqual([]);
  });

  it('fails with the fix when the server refuses our certificate or nothing listens', async () => {
    const stranger = await createCertificateAuthority('not the simulator CA');
    const cert = await issueCertificate(stranger, { commonName: 'stranger', usage: 'client' });
    await writeFile(path.join(dir, 'stranger.pem'), cert.cert);
    await writeFile(path.join(dir, 'stranger.key'), cert.key);
    const refused = await check('smsp', { ...smspClientEnv(simulator, dir), SMSP_TLS_CERT: path.join(dir, 'stranger.pem'), SMSP_TLS_KEY: path.join(dir, 'stranger.key') });
    expect(refused.status).toBe('FAIL');
    expect(refused.fix).toMatch(/TLS handshake failed|connection was cut/);

    const closed = new URL(simulator.url);
    closed.port = '1';
    const nothing = await check('smsp', { ...smspClientEnv(simulator, dir), SMSP_URL: closed.href });
    expect(nothing.status).toBe('FAIL');
    expect(nothing.summary).toMatch(/ECONNREFUSED/);
    expect(nothing.fix).toMatch(/SMSP_URL/);
  });
});

describe('Redis and workers', () => {
  it('passes the shared Redis, and fails one that may evict keys', async () => {
    expect((await check('redis', { REDIS_URL: TEST_REDIS_URL })).status).toBe('PASS');
    const evicting = await PrivateRedis.start();
    try {
      const admin = new Redis(evicting.url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      const report = await check('redis', { REDIS_URL: evicting.url });
      expect(report.status).toBe('FAIL');
      expect(report.summary).toContain('maxmemory-policy is allkeys-lru');
      expect(report.fix).toContain('noeviction');
    } finally {
      await evicting.kill();
    }
  });

  it('fails naming REDIS_URL without its password when nothing answers', async () => {
    const report = await check('redis', { REDIS_URL: 'redis://:synthetic-secret@127.0.0.1:1' });
    expect(report.status).toBe('FAIL');
    expect(report.summary).toContain('REDIS_URL redis://:***@127.0.0.1:1');
    expect(JSON.stringify(report)).not.toContain('synthetic-secret');
  });

  it('fails when jobs wait with no worker, and passes once a worker consumes', async () => {
    const prefix = uniquePrefix('doctor');
    const redis = connectTestRedis();
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix };
    const queue = new Queue('trace', { connection: redis, prefix });
    try {
      expect((await check('workers', env)).status).toBe('WARN');
      await queue.add('trace', { batchId: 'b', chunk: 0 });
      const stuck = await check('workers', env);
      expect(stuck.status).toBe('FAIL');
      expect(stuck.fix).toMatch(/pds-trace worker/);
      const worker = new Worker('trace', async () => {}, { connection: connectTestRedis(), prefix });
      await worker.waitUntilReady();
      try {
        await new Promise((r) => setTimeout(r, 500));
        const running = await check('workers', env);
        expect(running.status).toBe('PASS');
        expect(running.summary).toMatch(/trace: 1 worker/);
      } finally {
        await worker.close();
      }
    } finally {
      await queue.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });
});

describe('data folder, audit trail and users', () => {
  it('fails a data folder others can read, with the chmod that mends it', async () => {
    const dir = await folder('open');
    await chmod(dir, 0o755);
    const report = await check('data-folder', { PDS_TRACE_DATA_DIR: dir });
    expect(report.status).toBe('FAIL');
    expect(report.fix).toBe(`Run: chmod 700 ${dir}`);
    await chmod(dir, 0o700);
    expect((await check('data-folder', { PDS_TRACE_DATA_DIR: dir })).status).toBe('PASS');
  });

  it('skips a data folder with no trail yet without creating one, passes a trail that verifies and fails one edited', async () => {
    const dir = await folder('audit');
    expect((await check('audit', { PDS_TRACE_DATA_DIR: dir })).status).toBe('SKIP');
    expect((await check('audit', { PDS_TRACE_DATA_DIR: dir })).status).toBe('SKIP');
    const store = await openAuditStore({ dataDir: dir });
    await store.append(sampleEvents(5));
    await store.close();
    const good = await check('audit', { PDS_TRACE_DATA_DIR: dir });
    expect(good.status).toBe('PASS');
    expect(good.summary).toMatch(/5 events, chain verifies/);
    await appendFile(path.join(dir, 'audit', 'events.jsonl'), '{"seq":6,"kind":"forged"}\n');
    const edited = await check('audit', { PDS_TRACE_DATA_DIR: dir });
    expect(edited.status).toBe('FAIL');
    expect(edited.fix).toMatch(/audit verify/);
  });

  it('fails when the settings name another audit store than the folder is pinned to', async () => {
    const dir = await folder('pinned');
    const store = await openAuditStore({ dataDir: dir });
    await store.close();
    const report = await check('audit', { PDS_TRACE_DATA_DIR: dir, AUDIT_DATABASE_URL: 'postgres://127.0.0.1:1/elsewhere' });
    expect(report.status).toBe('FAIL');
    expect(report.summary).toMatch(/AUDIT_DATABASE_URL/);
  });

  it('warns with no users yet, and counts people, admins and service accounts', async () => {
    const dir = await folder('users');
    expect((await check('users', { PDS_TRACE_DATA_DIR: dir })).status).toBe('WARN');
    const users = await recordedUsers(dir);
    await users.add({ id: 'admin1', kind: 'person', roles: ['admin'], passwordHash: await hashPassword('synthetic-passphrase-1', FAST) }, { firstOnly: true });
    await users.add({ id: 'tracer1', kind: 'person', roles: ['tracer'], passwordHash: await hashPassword('synthetic-passphrase-2', FAST) });
    const good = await check('users', { PDS_TRACE_DATA_DIR: dir });
    expect(good).toMatchObject({ status: 'PASS', summary: '2 people (1 active admin), 0 service accounts' });
  });
});
