import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliKnowledge } from './cli-knowledge.js';
import { commandLineProblems, commandOf, credentialProblems, environmentProblems, type CliKnowledge } from './deploy-rules.js';

/**
 * The example systemd units (deploy/systemd/), for machines without Docker: each starts a real
 * `pds-trace` command, reads only known settings, takes its secrets as credentials
 * (LoadCredential=, read through *_FILE and paths under %d), signs unattended work in as the
 * service account, and is hardened. `systemd-analyze verify` reads each as systemd would.
 */

const UNITS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/systemd');
const BINARY = '/usr/local/bin/pds-trace';

type Unit = Map<string, string[]>;

/** `Key=value` lines of a unit (every section), repeated keys kept in order. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) unit.set(m[1]!, [...(unit.get(m[1]!) ?? []), m[2]!]);
  }
  return unit;
}

/** `NAME=value` lines of an environment file. */
function parseEnvironmentFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

const HARDENING: Record<string, RegExp> = {
  UMask: /^0077$/,
  NoNewPrivileges: /^yes$/,
  PrivateTmp: /^yes$/,
  ProtectSystem: /^strict$/,
  Restart: /^on-failure$/,
  User: /^(?!root$|0$).+/,
  EnvironmentFile: /^\/etc\/pds-trace\//,
};

function unitProblems(name: string, text: string, cli: CliKnowledge): string[] {
  const unit = parseUnit(text);
  const problems: string[] = [];
  for (const [key, wanted] of Object.entries(HARDENING)) {
    if (!unit.get(key)?.some((v) => wanted.test(v))) problems.push(`${name}: ${key}= must match ${wanted}`);
  }
  const exec = unit.get('ExecStart') ?? [];
  if (exec.length !== 1 || !exec[0]!.startsWith(`${BINARY} `)) return [...problems, `${name}: ExecStart must run ${BINARY}`];
  const argv = exec[0]!.slice(BINARY.length).trim().split(/\s+/);
  problems.push(...commandLineProblems(name, argv, cli));
  const env = Object.fromEntries((unit.get('Environment') ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const credentials = new Set((unit.get('LoadCredential') ?? []).map((c) => c.split(':')[0]!));
  problems.push(...environmentProblems(name, env, cli, { dir: '%d', given: credentials }));
  const command = commandOf(argv, cli);
  if (command) problems.push(...credentialProblems(name, command, env));
  return problems;
}

function verify(file: string): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', file], { timeout: 60_000 }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return resolve(['systemd-analyze is not installed (Debian package systemd): the units cannot be verified']);
      // The command is not installed on this machine; every other finding is a problem.
      resolve(`${stdout}${stderr}`.split('\n').filter((l) => l.trim() !== '' && !l.includes(`Command ${BINARY} is not executable`)));
    });
  });
}

let cli: CliKnowledge;
let units: Array<{ name: string; text: string }>;

beforeAll(async () => {
  cli = await cliKnowledge();
  const names = (await readdir(UNITS)).filter((n) => n.endsWith('.service'));
  units = await Promise.all(names.map(async (name) => ({ name, text: await readFile(path.join(UNITS, name), 'utf8') })));
});

describe('deploy/systemd', () => {
  it('has a unit for each long-running command: worker, watch, serve, and the scheduler (a worker with PDS_TRACE_SCHEDULES)', () => {
    const started = units.map(({ text }) => commandOf(parseUnit(text).get('ExecStart')![0]!.slice(BINARY.length).trim().split(/\s+/), cli)?.name);
    expect(started).toEqual(expect.arrayContaining(['worker', 'watch', 'serve']));
    const scheduler = units.find(({ text }) => parseUnit(text).get('Environment')?.some((e) => e.startsWith('PDS_TRACE_SCHEDULES=')));
    expect(scheduler && parseUnit(scheduler.text).get('ExecStart')![0]).toMatch(/ worker /);
  });

  it('starts real commands, with known settings, secrets as credentials, a service account where one signs in, and hardening', () => {
    expect(units.length).toBeGreaterThanOrEqual(4);
    expect(units.flatMap(({ name, text }) => unitProblems(name, text, cli))).toEqual([]);
  });

  it('lets every worker write wherever another unit has batches write their outputs (any worker may assemble a batch)', () => {
    const writable = (text: string) => parseUnit(text).get('ReadWritePaths') ?? [];
    const workers = units.filter(({ text }) => / worker( |$)/.test(parseUnit(text).get('ExecStart')![0]!));
    expect(workers.length).toBeGreaterThanOrEqual(2);
    for (const worker of workers) {
      const own = writable(worker.text);
      for (const other of units) {
        for (const folder of writable(other.text)) expect(own.some((p) => folder === p || folder.startsWith(`${p}/`)), `${worker.name} cannot write ${folder} (${other.name})`).toBe(true);
      }
    }
  });

  it('reads only known settings from the example environment file, none of them secret', async () => {
    const env = parseEnvironmentFile(await readFile(path.join(UNITS, 'pds-trace.env.example'), 'utf8'));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['PDS_TRACE_DATA_DIR', 'REDIS_URL', 'SMSP_URL', 'NODE_OPTIONS']));
    expect(env.NODE_OPTIONS).toContain('--v8-pool-size=1');
    expect(environmentProblems('pds-trace.env.example', env, cli, { dir: '%d', given: new Set() })).toEqual([]);
  });

  it('has units systemd itself reads without a complaint', async () => {
    const findings = await Promise.all(units.map(({ name }) => verify(path.join(UNITS, name))));
    expect(findings.flat()).toEqual([]);
  }, 120_000);

  const mutations: Array<[string, (text: string) => string, string]> = [
    ['runs a command pds-trace does not have', (t) => t.replace(/^ExecStart=(\S+) \S+/m, 'ExecStart=$1 wroker'), 'is no pds-trace command'],
    ['runs as root', (t) => t.replace(/^User=.*$/m, 'User=root'), 'User= must match'],
    ['puts the token in the environment', (t) => t.replace(/^Environment=PDS_TRACE_SERVICE_TOKEN_FILE=.*$/m, 'Environment=PDS_TRACE_SERVICE_TOKEN=pdst_x'), 'PDS_TRACE_SERVICE_TOKEN puts a secret in the environment'],
    ['reads a credential it does not load', (t) => t.replace(/^LoadCredential=service-token:.*$/m, ''), 'names %d/service-token, a secret it is not given'],
    ['drops UMask', (t) => t.replace(/^UMask=.*$/m, ''), 'UMask= must match'],
  ];

  it.each(mutations)('catches a worker unit that %s', (_label, mutate, expected) => {
    const text = units.find((u) => u.name === 'pds-trace-worker@.service')!.text;
    const mutated = mutate(text);
    expect(mutated).not.toBe(text);
    expect(unitProblems('pds-trace-worker@.service', mutated, cli)).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  it('lets systemd-analyze catch a directive systemd does not know', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pds-trace-units-'));
    try {
      const text = units.find((u) => u.name === 'pds-trace-web.service')!.text.replace(/^UMask=/m, 'UMaks=');
      await writeFile(path.join(dir, 'pds-trace-web.service'), text);
      expect((await verify(path.join(dir, 'pds-trace-web.service'))).join('\n')).toContain("Unknown key 'UMaks'");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
