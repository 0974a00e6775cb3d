import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSchedules } from '../../src/intake/schedules/schedule-file.js';
import { cliKnowledge } from './cli-knowledge.js';
import { composeProblems, type CliKnowledge } from './deploy-rules.js';

/**
 * docker-compose.yml read as Compose reads it (YAML with anchors and merge keys; no Docker engine
 * runs on our machines) and held to the deployment's rules: real commands, known settings, secrets
 * as files, credentials for every unattended service, a service starting only once what it needs is
 * healthy, scalable workers. Each rule is also shown to catch a file that breaks it.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Compose = Record<string, any>;

function readCompose(): Compose {
  return parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
}

/** `${NAME:-default}` as Compose fills it in when NAME is not set. */
function interpolatedDefault(value: string): string {
  return value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
}

let cli: CliKnowledge;

beforeAll(async () => {
  cli = await cliKnowledge();
});

describe('docker-compose.yml', () => {
  it('keeps every deployment rule', () => {
    expect(cli.commands.map((c) => c.name)).toEqual(expect.arrayContaining(['worker', 'watch', 'serve', 'simulator', 'doctor', 'users add']));
    expect(composeProblems(readCompose(), cli)).toEqual([]);
  });

  it('runs Redis, PostgreSQL, the web service, scalable workers, the scheduler, the watcher, and the simulator only for demonstrations', () => {
    const { services } = readCompose();
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'postgres', 'web', 'worker', 'scheduler', 'watch', 'simulator']));
    expect(services.web.command[0]).toBe('serve');
    expect(services.worker.command[0]).toBe('worker');
    expect(services.watch.command[0]).toBe('watch');
    // The scheduler is a worker that takes the schedule queue because PDS_TRACE_SCHEDULES is set.
    expect(services.scheduler.command[0]).toBe('worker');
    expect(services.scheduler.environment.PDS_TRACE_SCHEDULES).toBe(services.scheduler.configs[0].target);
    expect(services.worker.environment.PDS_TRACE_SCHEDULES).toBeUndefined();
    expect(services.simulator.profiles).toEqual(['demo']);
    for (const name of ['web', 'worker', 'scheduler', 'watch']) expect(services[name].profiles, name).toBeUndefined();
  });

  it('shares one data volume among every long-running pds-trace service', () => {
    const { services } = readCompose();
    for (const name of ['web', 'worker', 'scheduler', 'watch', 'simulator']) expect(services[name].volumes, name).toContain('data:/data');
    expect(services.worker.environment.PDS_TRACE_DATA_DIR).toBe('/data');
  });

  it('mounts named volumes only where the image made a folder the non-root account owns (else Docker makes it root-owned and the service cannot write)', () => {
    const { services } = readCompose();
    const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
    const made = new Set(/mkdir -p ([^&\\\n]+)/.exec(dockerfile)![1]!.trim().split(/\s+/));
    const owned = new Set(/chown \S+ ([^&\\\n]+)/.exec(dockerfile)![1]!.trim().split(/\s+/));
    const targets = Object.values(services as Record<string, Compose>)
      .filter((service) => service.build)
      .flatMap((service) => (service.volumes ?? []).filter((v: unknown) => typeof v === 'string').map((v: string) => v.split(':')[1]!));
    expect(targets).toEqual(expect.arrayContaining(['/data', '/certs']));
    for (const target of targets) {
      expect(made.has(target), target).toBe(true);
      expect(owned.has(target), target).toBe(true);
    }
  });

  it('runs Redis with noeviction and AOF, and a healthcheck that sees both', () => {
    const { redis } = readCompose().services;
    const command = redis.command.join(' ');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(command).toContain('--appendonly yes');
    expect(redis.healthcheck.test.join(' ')).toContain('noeviction');
  });

  it('connects to the audit store as the insert-only role, from a secret, and gives the owner password to the setup one-off only', () => {
    const { services } = readCompose();
    expect(services.postgres.environment.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/postgres_password');
    const withOwnerPassword = Object.entries(services).filter(([, s]) => (s as Compose).secrets?.includes('postgres_password')).map(([name]) => name);
    expect(withOwnerPassword.sort()).toEqual(['postgres', 'setup']);
    const bootstrap = readFileSync(path.join(REPO, 'deploy/bootstrap.sh'), 'utf8');
    expect(bootstrap).toMatch(/APP_ROLE=pds_trace_app/);
    expect(bootstrap).toContain('audit migrate');
  });

  it('makes every secret file in deploy/bootstrap.sh or has it ask for the file', () => {
    const compose = readCompose();
    const bootstrap = readFileSync(path.join(REPO, 'deploy/bootstrap.sh'), 'utf8');
    for (const [name, secret] of Object.entries(compose.secrets as Record<string, { file: string }>)) {
      expect(secret.file, name).toMatch(/^\.\/secrets\//);
      const file = secret.file.slice('./secrets/'.length);
      expect(bootstrap.includes(`secrets/${file}`) || bootstrap.includes(`for file in `) && bootstrap.includes(file), `${name}: ${file}`).toBe(true);
    }
  });

  it('mounts a schedules file the scheduler can load, owned by the service account bootstrap creates', async () => {
    const compose = readCompose();
    const schedules = await loadSchedules(path.join(REPO, compose.configs.schedules.file));
    const account = interpolatedDefault(compose.services.scheduler.environment.PDS_TRACE_SERVICE_ACCOUNT);
    expect(readFileSync(path.join(REPO, 'deploy/bootstrap.sh'), 'utf8')).toContain(`SERVICE=${account}`);
    expect(schedules.map((s) => s.owner)).toEqual(schedules.map(() => account));
    const exchange = compose.services.scheduler.volumes.find((v: Compose) => v.target === '/exchange');
    for (const schedule of schedules) expect(schedule.input.startsWith(`${exchange.target}/`)).toBe(true);
  });

  const mutations: Array<[string, (c: Compose) => void, string]> = [
    ['runs a command pds-trace does not have', (c) => (c.services.worker.command = ['wroker']), 'service worker: "wroker" is no pds-trace command'],
    ['gives a command an option it does not take', (c) => (c.services.worker.command = ['worker', '--concurency', '2']), 'service worker: pds-trace worker has no option --concurency'],
    ['sets a variable pds-trace never reads', (c) => (c.services.watch.environment.SMSP_MAX_RATE_PER_SECOND = '20'), 'service watch: SMSP_MAX_RATE_PER_SECOND is no setting pds-trace reads'],
    ['puts the service token in the environment', (c) => (c.services.worker.environment.PDS_TRACE_SERVICE_TOKEN = 'pdst_x'), 'service worker: PDS_TRACE_SERVICE_TOKEN puts a secret in the environment'],
    ['puts a password in a URL', (c) => (c.services.web.environment.REDIS_URL = 'redis://default:hunter2@redis:6379'), 'service web: REDIS_URL carries a password'],
    ['names a secret the service is not given', (c) => (c.services.watch.secrets = c.services.watch.secrets.filter((s: string) => s !== 'smsp_tls_key')), 'service watch: SMSP_TLS_KEY names /run/secrets/smsp_tls_key, a secret it is not given'],
    ['leaves the workers without a service account', (c) => delete c.services.worker.environment.PDS_TRACE_SERVICE_ACCOUNT, 'service worker: pds-trace worker signs in, but no PDS_TRACE_SERVICE_ACCOUNT'],
    ['leaves the watcher without a token', (c) => delete c.services.watch.environment.PDS_TRACE_SERVICE_TOKEN_FILE, 'service watch: pds-trace watch signs in, but no PDS_TRACE_SERVICE_TOKEN_FILE'],
    ['refers to a secret that is not defined', (c) => delete c.secrets.service_token, 'service worker: secret service_token is not defined at top level'],
    ['takes a secret from the environment', (c) => (c.secrets.service_token = { environment: 'TOKEN' }), 'secret service_token: must come from a file'],
    ['refers to a volume that is not defined', (c) => delete c.volumes.data, 'service worker: volume data is not defined at top level'],
    ['starts workers once the simulator merely started', (c) => (c.services.worker.depends_on.simulator = { condition: 'service_started' }), 'service worker: depends on simulator without condition: service_healthy'],
    ['starts workers without waiting for Redis', (c) => delete c.services.worker.depends_on.redis, 'service worker: uses redis but does not wait for it to be healthy'],
    ['waits for a service that has no healthcheck', (c) => delete c.services.postgres.healthcheck, 'service worker: waits for postgres to be healthy, which has no healthcheck'],
    ['runs the watcher without a healthcheck', (c) => delete c.services.watch.healthcheck, 'service watch: no healthcheck'],
    ['publishes a worker port', (c) => (c.services.worker.ports = ['9464:9464']), 'service worker: publishes a host port'],
    ['leaves the exchange folder out of the workers', (c) => (c.services.worker.volumes = ['data:/data']), 'service worker: does not mount ${PDS_TRACE_EXCHANGE_DIR:-./exchange} at /exchange as service watch does'],
    ['names the worker container', (c) => (c.services.worker.container_name = 'pds-trace-worker'), 'service worker: has a fixed container_name'],
    ['gives PostgreSQL its password as a value', (c) => (c.services.postgres.environment.POSTGRES_PASSWORD = 'x'), 'service postgres: POSTGRES_PASSWORD puts a secret in the environment'],
  ];

  it.each(mutations)('catches a file that %s', (_label, mutate, expected) => {
    const compose = readCompose();
    mutate(compose);
    expect(composeProblems(compose, cli)).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });
});
