#!/usr/bin/env node
/**
 * `docker` for test/deploy/bootstrap.test.ts, where no Docker engine runs: `docker compose …` as
 * deploy/bootstrap.sh calls it, each container replaced by the real thing on this machine. `run`
 * runs the built pds-trace (or `sh`) with the service's environment from docker-compose.yml;
 * `exec postgres psql` runs psql against the test database; `cp simulator:/certs/…` copies from
 * a running test simulator's folder. What a container would see at its own paths (/data,
 * /run/secrets/<name>, /exchange, the host names redis, postgres and simulator) is translated to
 * this machine's, as FAKE_COMPOSE (JSON) says. Every call is appended to <state>/calls.log.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const state = JSON.parse(process.env.FAKE_COMPOSE);
const project = process.cwd();
const args = process.argv.slice(2);
appendFileSync(path.join(state.dir, 'calls.log'), `${args.join(' ')}\n`);

if (args[0] !== 'compose') fail(`fake docker: only "docker compose" (${args.join(' ')})`);
const [verb, ...rest] = args.slice(1);

const compose = () => parse(readFileSync(path.join(project, 'docker-compose.yml'), 'utf8'), { merge: true });
const secretsDir = path.join(state.dir, 'run-secrets');

/** `.env` of the project, as Compose reads it for `${NAME}` in docker-compose.yml. */
function dotEnv() {
  try {
    return Object.fromEntries(
      readFileSync(path.join(project, '.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } catch {
    return {};
  }
}

/** `${NAME}`, `${NAME:-default}` and `${NAME:?error}`: the shell's environment first, then .env. */
function interpolate(text) {
  const vars = { ...dotEnv(), ...process.env };
  return String(text).replace(/\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g, (_m, name, kind, word) => {
    const value = vars[name];
    if (value !== undefined && value !== '') return value;
    if (kind === '?') fail(`fake docker: ${name}: ${word}`);
    return kind === '-' ? word : '';
  });
}

/** A container's view of a string, as this machine has it. */
function translate(text) {
  return String(text)
    .replaceAll('/run/secrets/', `${secretsDir}/`)
    .replace(/^\/data(?=\/|$)/, state.dataDir)
    .replace(/^\/exchange(?=\/|$)/, path.join(project, 'exchange'))
    .replaceAll('/etc/pds-trace/schedules.json', path.join(project, compose().configs.schedules.file))
    .replaceAll('redis://redis:6379', state.redisUrl)
    .replaceAll('@postgres:5432/pds_trace', `@127.0.0.1:5432/${state.database}`)
    .replaceAll('https://simulator:8443', state.simulatorUrl ?? 'https://simulator:8443')
    .replaceAll('pds_trace_app', state.appRole);
}

/** The secrets a service is given, as files at their translated /run/secrets paths. */
function mountSecrets(service) {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const defined = compose().secrets;
  for (const name of service.secrets ?? []) {
    const source = path.join(project, defined[name].file);
    writeFileSync(path.join(secretsDir, name), translate(readFileSync(source, 'utf8')), { mode: 0o600 });
  }
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(125);
}

function run(options) {
  let i = 0;
  const extraEnv = {};
  let entrypoint = 'pds-trace';
  for (; i < options.length && options[i].startsWith('-'); i++) {
    const flag = options[i];
    if (flag === '--rm' || flag === '-T') continue;
    if (flag === '-e') {
      const spec = options[++i];
      const eq = spec.indexOf('=');
      if (eq === -1) extraEnv[spec] = process.env[spec] ?? '';
      else extraEnv[spec.slice(0, eq)] = spec.slice(eq + 1);
    } else if (flag === '--entrypoint') entrypoint = options[++i];
    else fail(`fake docker: compose run ${flag} not understood`);
  }
  const name = options[i];
  const service = compose().services[name];
  if (!service) fail(`fake docker: no service ${name}`);
  mountSecrets(service);
  const env = { PATH: `${state.binDir}:${process.env.PATH}`, HOME: state.dir, REDIS_PREFIX: state.redisPrefix };
  for (const [key, value] of Object.entries(service.environment ?? {})) env[key] = translate(interpolate(value));
  // Each container has its own network namespace; here the processes share one.
  if (env.PDS_TRACE_METRICS_PORT) env.PDS_TRACE_METRICS_PORT = '0';
  for (const [key, value] of Object.entries(extraEnv)) env[key] = translate(value);
  const command = options.slice(i + 1).map(translate);
  const argv = command.length > 0 ? command : (service.command ?? []).map(translate);
  const [file, fileArgs] = entrypoint === 'pds-trace' ? [process.execPath, [state.builtCli, ...argv]] : [entrypoint, argv];
  const result = spawnSync(file, fileArgs, { env, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

switch (verb) {
  case 'version':
    process.stdout.write(rest.includes('--short') ? '2.29.7\n' : 'Docker Compose version v2.29.7\n');
    break;
  case 'build':
  case 'up':
  case 'ps':
    break;
  case 'exec': {
    const at = rest.indexOf('postgres');
    if (at === -1 || rest[at + 1] !== 'psql') fail(`fake docker: compose exec ${rest.join(' ')}`);
    const sql = translate(readFileSync(0, 'utf8'));
    const result = spawnSync('psql', [`postgres://postgres@127.0.0.1:5432/${state.database}`, '-q', '-v', 'ON_ERROR_STOP=1'], { input: sql, stdio: ['pipe', 'inherit', 'inherit'] });
    process.exit(result.status ?? 1);
  }
  case 'cp': {
    const [from, to] = rest;
    const match = /^simulator:\/certs\/(.+)$/.exec(from);
    if (!match || !state.simulatorCertDir) fail(`fake docker: compose cp ${rest.join(' ')}`);
    copyFileSync(path.join(state.simulatorCertDir, match[1]), path.resolve(project, to));
    break;
  }
  case 'run':
    run(rest);
    break;
  default:
    fail(`fake docker: compose ${verb} not understood`);
}
