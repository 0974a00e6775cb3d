import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD } from '../auth/fixtures.js';
import { tempFolder } from '../audit/fixtures.js';
import { TEST_DATABASE_URL } from '../audit/pg-fixtures.js';
import { openPgAuditStore } from '../../src/audit/pg-store.js';
import { BUILT_CLI, ensureBuiltCli } from '../support/built-cli.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { visibleNames, waitFor } from '../support/wait.js';

/**
 * "From nothing, the README's steps give a working deployment", tried as a new user would:
 * deploy/bootstrap.sh --demo in an empty folder holding only docker-compose.yml, then the
 * `worker` and `watch` services as the compose file runs them, and a file dropped into the watched
 * folder comes back traced. No Docker engine runs here, so `docker` is test/deploy/fake-compose.mjs:
 * each container is the real command on this machine with the service's environment from the
 * compose file, PostgreSQL and Redis are the test ones, the simulator is a real one over mutual TLS.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let folder: { dir: string; remove: () => Promise<void> };
let project: string;
let simulator: TestSimulator;
let admin: pg.Client;
const database = `pds_trace_boot_${randomBytes(4).toString('hex')}`;
const appRole = `pds_trace_app_${randomBytes(4).toString('hex')}`;
const redisPrefix = uniquePrefix('bootstrap');
let env: Record<string, string>;
const services: ChildProcess[] = [];

function sh(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', args, { cwd: project, env, timeout: timeoutMs }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

/** `docker compose run --rm <service>` with the service's own command, left running. */
function startService(name: string): { output: () => string } {
  let output = '';
  const child = spawn(path.join(folder.dir, 'bin/docker'), ['compose', 'run', '--rm', name], { cwd: project, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  services.push(child);
  return { output: () => output };
}


beforeAll(async () => {
  ensureBuiltCli();
  folder = await tempFolder('pds-trace-bootstrap-');
  project = path.join(folder.dir, 'project');
  await mkdir(path.join(project, 'deploy/compose'), { recursive: true });
  for (const file of ['docker-compose.yml', 'deploy/bootstrap.sh', 'deploy/compose/schedules.json']) await copyFile(path.join(REPO, file), path.join(project, file));

  const bin = path.join(folder.dir, 'bin');
  await mkdir(bin);
  const script = async (name: string, body: string) => {
    await writeFile(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(path.join(bin, name), 0o755);
  };
  await script('docker', `exec "${process.execPath}" "${path.join(REPO, 'test/deploy/fake-compose.mjs')}" "$@"`);
  await script('pds-trace', `exec "${process.execPath}" "${BUILT_CLI}" "$@"`);
  // The tests may run as root; the bootstrap refuses root, as it should on a real machine.
  await script('id', 'case "$1" in -u|-g) echo 1000 ;; *) exec /usr/bin/id "$@" ;; esac');

  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  simulator = await startTestSimulator({ certDir: path.join(folder.dir, 'simulator-certs'), serverNames: ['simulator'] });

  const state = {
    dir: folder.dir,
    binDir: bin,
    builtCli: BUILT_CLI,
    dataDir: path.join(folder.dir, 'data'),
    database,
    appRole,
    redisUrl: TEST_REDIS_URL,
    redisPrefix,
    simulatorUrl: new URL(simulator.url).origin,
    simulatorCertDir: simulator.certDir,
  };
  env = { PATH: `${bin}:${process.env.PATH}`, HOME: folder.dir, LOG_LEVEL: 'warn', FAKE_COMPOSE: JSON.stringify(state), PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD };
}, 240_000);

afterAll(async () => {
  for (const child of services) if (child.pid) process.kill(-child.pid, 'SIGTERM');
  await Promise.all(services.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : undefined)));
  await simulator?.close();
  await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin?.query(`DROP ROLE IF EXISTS ${appRole}`);
  await admin?.end();
  const redis = connectTestRedis();
  await deleteKeys(redis, redisPrefix);
  redis.disconnect();
  await folder?.remove();
}, 120_000);

describe('deploy/bootstrap.sh --demo, from nothing', () => {
  it('makes the secrets, the first admin, the audit schema in PostgreSQL and the service account, and installs the schedules', async () => {
    const run = await sh(['deploy/bootstrap.sh', '--demo', '--admin', 'ada'], 300_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(/pdst_/);

    const dotEnv = await readFile(path.join(project, '.env'), 'utf8');
    expect(dotEnv).toContain('COMPOSE_PROFILES=demo\n');
    expect(dotEnv).toContain('SMSP_URL=https://simulator:8443/smsp/pds\n');
    expect(dotEnv).toContain('PDS_TRACE_UID=1000\n');
    expect((await stat(path.join(project, 'secrets'))).mode & 0o777).toBe(0o700);
    for (const file of await readdir(path.join(project, 'secrets'))) expect((await stat(path.join(project, 'secrets', file))).mode & 0o777, file).toBe(0o600);
    expect(await readFile(path.join(project, 'secrets/service-token'), 'utf8')).toMatch(/^pdst_[A-Za-z0-9_-]+\n$/);
    expect(await readFile(path.join(project, 'secrets/smsp-client.pem'), 'utf8')).toBe(await readFile(simulator.clientTlsPaths!.cert, 'utf8'));

    // The audit trail is in PostgreSQL, as the insert-only role the secret names, intact, and
    // records the service account's creation.
    const url = (await readFile(path.join(project, 'secrets/audit-database-url'), 'utf8'))
      .trim()
      .replace('@postgres:5432/pds_trace', `@127.0.0.1:5432/${database}`)
      .replace('pds_trace_app', appRole);
    const store = await openPgAuditStore({ connectionString: url });
    try {
      expect(await store.verify()).toMatchObject({ ok: true });
      const events = await store.search();
      expect(events.some((e) => e.kind === 'user_changed' && /target=svc-pds-trace/.test(e.detail ?? ''))).toBe(true);
      expect(events.some((e) => e.kind === 'config_changed' && e.outcome === 'pinned')).toBe(true);
    } finally {
      await store.close();
    }
    const calls = await readFile(path.join(folder.dir, 'calls.log'), 'utf8');
    expect(calls).toMatch(/compose run --rm -T -e PDS_TRACE_NEW_PASSWORD -e PDS_TRACE_PASSWORD setup schedule sync --as ada/);
    expect(calls).toMatch(/compose up -d --wait\n/);
  }, 320_000);

  it('starts the worker and the watcher as the compose file runs them, signed in as the service account, and a file dropped into the watched folder comes back traced', async () => {
    const worker = startService('worker');
    const watch = startService('watch');
    const inbox = path.join(project, 'exchange/watch/inbox');
    await waitFor('the watcher to take its folder', async () => ((await stat(inbox)).isDirectory() ? true : undefined), { timeoutMs: 120_000, intervalMs: 500, retryOnError: true, context: () => `${watch.output()}\n${worker.output()}` });
    await copyFile(path.join(REPO, 'samples/cohort-small.csv'), path.join(inbox, 'cohort-small.csv'));
    const outbox = path.join(project, 'exchange/watch/outbox');
    const results = await waitFor(
      'the results in outbox/',
      async () => (await readdir(outbox)).find((f) => f.endsWith('.SIMULATED.results.csv')),
      { timeoutMs: 300_000, intervalMs: 500, retryOnError: true, context: () => `watch:\n${watch.output()}\nworker:\n${worker.output()}` },
    );
    const rows = (await readFile(path.join(outbox, results), 'utf8')).trim().split('\n');
    expect(rows).toHaveLength(201);
    expect(worker.output()).toContain('Signed in as svc-pds-trace (tracer, operator)');
    expect(watch.output()).toContain('Signed in as svc-pds-trace (tracer, operator)');
  }, 480_000);

  it('runs once: a second run stops before touching anything, and says how to start again', async () => {
    const again = await sh(['deploy/bootstrap.sh', '--demo', '--admin', 'ada'], 60_000);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already bootstrapped (secrets/service-token exists)');
  }, 90_000);
});

describe('deploy/bootstrap.sh against SMSP', () => {
  it('names what is missing (SMSP_URL in .env, the endpoint certificate in secrets/) before it builds or starts anything', async () => {
    const empty = path.join(folder.dir, 'empty-project');
    await mkdir(path.join(empty, 'deploy'), { recursive: true });
    await copyFile(path.join(REPO, 'deploy/bootstrap.sh'), path.join(empty, 'deploy/bootstrap.sh'));
    const callsBefore = await readFile(path.join(folder.dir, 'calls.log'), 'utf8').catch(() => '');
    const run = (cwd: string) =>
      new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile('sh', ['deploy/bootstrap.sh'], { cwd, env, timeout: 60_000 }, (err, _out, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr })),
      );
    const noUrl = await run(empty);
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toContain('set SMSP_URL in .env');
    await writeFile(path.join(empty, '.env'), 'SMSP_URL=https://smsp.example.nhs.uk/smsp/pds\nSMSP_ASID=200000000001\n');
    const noCertificate = await run(empty);
    expect(noCertificate.code).toBe(1);
    expect(noCertificate.stderr).toContain('secrets/smsp-client.pem is missing');
    expect(await readdir(empty)).toEqual(expect.not.arrayContaining(['secrets', 'exchange']));
    const calls = (await readFile(path.join(folder.dir, 'calls.log'), 'utf8')).slice(callsBefore.length);
    expect(calls.split('\n').filter((c) => c !== '' && !c.startsWith('compose version'))).toEqual([]);
  }, 120_000);
});
