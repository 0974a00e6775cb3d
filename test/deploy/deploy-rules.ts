import { ACCESS_RULES } from '../../src/auth/roles.js';
import type { RegisteredCommand } from '../support/cli-commands.js';

/**
 * The rules a deployment file (docker-compose.yml, a systemd unit) must keep, as checkers that
 * return the problems they find, so a test can show both that the shipped files keep them and that
 * a file breaking one is caught. What is "a real command" or "a known setting" comes from the
 * program itself (its --help, its configuration and sources), never from a list kept here.
 */

export interface CliKnowledge {
  commands: readonly RegisteredCommand[];
  globalOptions: ReadonlySet<string>;
  /** Every variable pds-trace reads (test/support/settings.ts). */
  settings: ReadonlySet<string>;
}

/** Variables of the Node runtime rather than of pds-trace (README, "Memory and V8 threads"). */
export const RUNTIME_VARIABLES: ReadonlySet<string> = new Set(['NODE_OPTIONS']);

/** The registered command a command line (without the program name) runs, by its longest name. */
export function commandOf(argv: readonly string[], cli: CliKnowledge): RegisteredCommand | undefined {
  return [...cli.commands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
}

/** A command line runs a registered command with options that command (or the program) takes. */
export function commandLineProblems(where: string, argv: readonly string[], cli: CliKnowledge): string[] {
  const command = commandOf(argv, cli);
  if (!command) return [`${where}: "${argv.join(' ')}" is no pds-trace command`];
  return argv
    .filter((token) => token.startsWith('--'))
    .map((token) => token.split('=')[0]!)
    .filter((option) => !command.options.has(option) && !cli.globalOptions.has(option))
    .map((option) => `${where}: pds-trace ${command.name} has no option ${option}`);
}

/** Whether the command signs someone in: it has a rule in the permission matrix (doctor and serve do not). */
export function signsIn(command: RegisteredCommand): boolean {
  return ACCESS_RULES.some((rule) => rule.surface === 'cli' && rule.name === command.name);
}

const SECRET_NAME = /PASSWORD|TOKEN|PASSPHRASE|SECRET/;
const URL_WITH_PASSWORD = /^[a-z]+:\/\/[^/@:]*:[^/@]+@/i;

/**
 * The environment of a pds-trace process: only settings pds-trace reads (and the Node runtime's),
 * no secret as a value (a secret comes as a file: `*_FILE`, a TLS path), and every file it names
 * under `secretDir` one the process is given.
 */
export function environmentProblems(
  where: string,
  env: Readonly<Record<string, string>>,
  cli: CliKnowledge,
  secrets: { dir: string; given: ReadonlySet<string> },
): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!cli.settings.has(name) && !RUNTIME_VARIABLES.has(name)) problems.push(`${where}: ${name} is no setting pds-trace reads`);
    if (SECRET_NAME.test(name) && !name.endsWith('_FILE')) problems.push(`${where}: ${name} puts a secret in the environment; use a file (${name}_FILE)`);
    if (URL_WITH_PASSWORD.test(value)) problems.push(`${where}: ${name} carries a password in its URL; use ${name}_FILE`);
    if (value.startsWith(`${secrets.dir}/`)) {
      const secret = value.slice(secrets.dir.length + 1);
      if (!secrets.given.has(secret)) problems.push(`${where}: ${name} names ${value}, a secret it is not given`);
    }
  }
  return problems;
}

/** An unattended process that signs in does so as a service account, with its token from a file. */
export function credentialProblems(where: string, command: RegisteredCommand, env: Readonly<Record<string, string>>): string[] {
  if (!signsIn(command)) return [];
  const problems: string[] = [];
  if (!env.PDS_TRACE_SERVICE_ACCOUNT) problems.push(`${where}: pds-trace ${command.name} signs in, but no PDS_TRACE_SERVICE_ACCOUNT is set`);
  if (!env.PDS_TRACE_SERVICE_TOKEN_FILE) problems.push(`${where}: pds-trace ${command.name} signs in, but no PDS_TRACE_SERVICE_TOKEN_FILE gives its token`);
  return problems;
}

// --- docker-compose.yml ---------------------------------------------------------------------------

type Yaml = Record<string, unknown>;

interface Service {
  image?: string;
  build?: unknown;
  command?: unknown;
  environment?: Record<string, unknown> | string[];
  secrets?: Array<string | { source: string; target?: string }>;
  configs?: Array<string | { source: string; target?: string }>;
  volumes?: Array<string | { type?: string; source?: string }>;
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: { test?: unknown; disable?: boolean };
  ports?: unknown[];
  container_name?: string;
  restart?: string;
  profiles?: string[];
  deploy?: { replicas?: number };
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
}

const sourceOf = (ref: string | { source: string }) => (typeof ref === 'string' ? ref : ref.source);

/** Services built from this repository's Dockerfile: the ones that run `pds-trace`. */
export function isPdsTraceService(service: Service): boolean {
  return service.build !== undefined || (service.image ?? '').startsWith('pds-trace');
}

/** Long-running: restarted when it stops (one-off services such as `cli` are not). */
const longRunning = (service: Service) => service.restart !== undefined && service.restart !== 'no';

export function composeProblems(compose: Yaml, cli: CliKnowledge): string[] {
  const services = (compose.services ?? {}) as Record<string, Service>;
  const topLevel = (key: string) => new Set(Object.keys((compose[key] ?? {}) as Yaml));
  const [secrets, configs, volumes] = [topLevel('secrets'), topLevel('configs'), topLevel('volumes')];
  const problems: string[] = [];

  for (const [name, definition] of Object.entries((compose.secrets ?? {}) as Record<string, { file?: string }>)) {
    if (!definition?.file) problems.push(`secret ${name}: must come from a file (never an environment value)`);
  }

  for (const [name, service] of Object.entries(services)) {
    const where = `service ${name}`;
    const given = new Set((service.secrets ?? []).map(sourceOf));
    for (const secret of given) if (!secrets.has(secret)) problems.push(`${where}: secret ${secret} is not defined at top level`);
    for (const config of (service.configs ?? []).map(sourceOf)) if (!configs.has(config)) problems.push(`${where}: config ${config} is not defined at top level`);
    for (const volume of service.volumes ?? []) {
      const named = typeof volume === 'string' ? volume.split(':')[0]! : volume.type === 'volume' || volume.type === undefined ? volume.source ?? '' : '';
      if (named !== '' && !/^[./~$]/.test(named) && !volumes.has(named)) problems.push(`${where}: volume ${named} is not defined at top level`);
    }

    const dependsOn: Record<string, { condition?: string }> = Array.isArray(service.depends_on)
      ? Object.fromEntries(service.depends_on.map((d) => [d, {}]))
      : service.depends_on ?? {};
    for (const [dependency, { condition }] of Object.entries(dependsOn)) {
      if (!services[dependency]) problems.push(`${where}: depends on ${dependency}, which is no service`);
      else if (condition !== 'service_healthy') problems.push(`${where}: depends on ${dependency} without condition: service_healthy`);
      else if (!services[dependency]!.healthcheck?.test) problems.push(`${where}: waits for ${dependency} to be healthy, which has no healthcheck`);
    }

    for (const variable of Object.keys(environmentOf(service))) {
      if (SECRET_NAME.test(variable) && !variable.endsWith('_FILE') && !isPdsTraceService(service)) problems.push(`${where}: ${variable} puts a secret in the environment; use a file (${variable}_FILE)`);
    }
    if (longRunning(service) && (!service.healthcheck?.test || service.healthcheck.disable)) problems.push(`${where}: no healthcheck`);
    if (name === 'worker' || (service.deploy?.replicas ?? 1) > 1) {
      if (service.ports?.length) problems.push(`${where}: publishes a host port, so it cannot be scaled (--scale ${name}=N)`);
      if (service.container_name) problems.push(`${where}: has a fixed container_name, so it cannot be scaled`);
    }
    if (!isPdsTraceService(service)) continue;

    if (!Array.isArray(service.command) || service.command.length === 0) {
      problems.push(`${where}: command must be a pds-trace command line (a list)`);
      continue;
    }
    const argv = service.command.map(String);
    problems.push(...commandLineProblems(where, argv, cli));
    const env = environmentOf(service);
    problems.push(...environmentProblems(where, env, cli, { dir: '/run/secrets', given }));
    const command = commandOf(argv, cli);
    if (command && longRunning(service)) problems.push(...credentialProblems(where, command, env));
    const needs = [...(env.REDIS_URL || env.REDIS_URL_FILE ? ['redis'] : []), ...(env.AUDIT_DATABASE_URL || env.AUDIT_DATABASE_URL_FILE ? ['postgres'] : [])];
    for (const store of needs) {
      if (services[store] && !(store in dependsOn)) problems.push(`${where}: uses ${store} but does not wait for it to be healthy`);
    }
  }
  problems.push(...outputFolderProblems(services, cli));
  return problems;
}

/** `target → source` of a service's bind mounts. */
function bindMounts(service: Service): Map<string, string> {
  const binds = (service.volumes ?? []).flatMap((v) => {
    if (typeof v !== 'string') return v.type === 'bind' ? [[(v as { target: string }).target, v.source ?? ''] as const] : [];
    const [source, target] = v.split(':');
    return /^[./~$]/.test(source!) && target ? [[target, source!] as const] : [];
  });
  return new Map(binds);
}

/**
 * Whichever worker assembles a batch writes its outputs where the batch asked (a watched folder's
 * outbox/, a schedule's out, `trace --out`): every service running `worker` must see each folder
 * the other services sharing the data volume see, at the same path, or outputs land inside one
 * container and are lost with it.
 */
function outputFolderProblems(services: Record<string, Service>, cli: CliKnowledge): string[] {
  const runs = (service: Service, name: string) => Array.isArray(service.command) && commandOf(service.command.map(String), cli)?.name === name;
  const sharing = Object.entries(services).filter(([, s]) => isPdsTraceService(s) && !runs(s, 'simulator') && (s.volumes ?? []).some((v) => v === 'data:/data'));
  const problems: string[] = [];
  for (const [workerName, worker] of sharing.filter(([, s]) => runs(s, 'worker'))) {
    const seen = bindMounts(worker);
    for (const [name, other] of sharing) {
      for (const [target, source] of bindMounts(other)) {
        if (seen.get(target) !== source) problems.push(`service ${workerName}: does not mount ${source} at ${target} as service ${name} does, so outputs it assembles there are lost`);
      }
    }
  }
  return problems;
}
