import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The one configuration object of pds-trace, built once at start-up from environment variables and
 * an optional JSON file (`PDS_TRACE_CONFIG`, keys named like the variables; the environment wins),
 * validated, frozen and passed down. Nothing else reads `process.env`. An empty variable counts as
 * unset (the file's value, or the default, applies).
 */

const positiveInt = z.coerce.number().int().positive();
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const SETTINGS = z.object({
  /**
   * Endpoint of the SMSP provider. Unset: the built-in simulator, but only in simulator mode (no
   * users yet) or with PDS_TRACE_SIMULATOR=true; a deployment with users must say which it wants.
   */
  SMSP_URL: optionalString.pipe(z.url({ protocol: /^https$/ }).optional()),
  /**
   * `true`: trace against the built-in simulator (synthetic population), even where users exist,
   * e.g. a training or test deployment. `false`: never start it. Unset: the simulator only in
   * simulator mode (no SMSP_URL, no users). Never together with SMSP_URL: a batch is bound to one
   * provider, and a silent fallback to the simulator once traced a real batch as `no_match`.
   */
  PDS_TRACE_SIMULATOR: optionalString.pipe(z.stringbool().optional()),
  /**
   * `true`: SMSP_URL is a pds-trace simulator run as its own service (`pds-trace simulator`, as in
   * docker-compose.yml), not PDS: batches traced against it are marked SIMULATED in every output.
   * Only with SMSP_URL.
   */
  SMSP_URL_IS_SIMULATOR: optionalString.pipe(z.stringbool().optional()),
  /** PEM client certificate, key and CA bundle paths for mutual TLS. */
  SMSP_TLS_CERT: optionalString,
  SMSP_TLS_KEY: optionalString,
  SMSP_TLS_CA: optionalString,
  /** PKCS#12 file as issued by NHS at endpoint registration (endpoint cert, sub CA, CA), and its passphrase. */
  SMSP_TLS_PFX: optionalString,
  SMSP_TLS_PASSPHRASE: optionalString,
  /** A file holding SMSP_TLS_PASSPHRASE. */
  SMSP_TLS_PASSPHRASE_FILE: optionalString,
  /** Accredited System ID sent as the ITK audit identity. */
  SMSP_ASID: optionalString.pipe(z.string().regex(/^\d{1,12}$/, 'must be the numeric ASID issued at registration').optional()),
  /** Audit identity URI for providers that take the ITK form (urn:nhs-uk:identity:ods:...), instead of the ASID. */
  SMSP_AUDIT_IDENTITY: optionalString,
  /** wsse:Username sent on every request. */
  SMSP_USERNAME: optionalString,
  /** wsa:From address of this system. */
  SMSP_FROM_ADDRESS: optionalString,
  /** Per-request timeout in milliseconds. */
  SMSP_TIMEOUT_MS: positiveInt.default(10_000),
  /** Requests open to SMSP at once, across every worker. */
  SMSP_MAX_IN_FLIGHT: positiveInt.default(8),
  /** Requests started per second, across every worker. */
  SMSP_MAX_RATE: positiveInt.default(20),
  /**
   * Margin added to the one-second rate window. pds-trace counts a request when it starts; the
   * provider counts it when it arrives, and network and event-loop jitter can bunch arrivals.
   */
  SMSP_RATE_SLACK_MS: z.coerce.number().int().min(0).max(1000).default(50),
  /** Attempts per request for retryable failures (1 = no retry). */
  SMSP_RETRY_ATTEMPTS: positiveInt.max(10).default(4),
  /** Base delay of the exponential back-off between attempts, in milliseconds. */
  SMSP_RETRY_BASE_MS: positiveInt.default(250),
  /** Redis for the BullMQ runner; unset means the embedded runner. */
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  /** A file holding REDIS_URL, for a Redis that takes a password (`rediss://user:password@…`). */
  REDIS_URL_FILE: optionalString,
  /** Prefix of every Redis key, queue and limit of this deployment (separate deployments sharing a Redis). */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only').default('pds-trace'),
  /** How long a worker's claim on a job lasts without renewal; a killed worker's chunk is picked up after it. */
  JOB_LOCK_MS: positiveInt.default(60_000),
  /** How often workers look for jobs whose worker died (BullMQ stalled-job check). */
  JOB_STALLED_INTERVAL_MS: positiveInt.default(30_000),
  /**
   * How long a trace job refused by a worker on another provider waits, in milliseconds, before a
   * worker looks at it again (src/pipeline/provider.ts); it waits in BullMQ's delayed set and uses
   * none of its attempts.
   */
  JOB_PROVIDER_HOLD_MS: positiveInt.default(30_000),
  /** Where batches, work files and audit files live. */
  PDS_TRACE_DATA_DIR: optionalString,
  /**
   * Hours a finished batch keeps its work files (its input copy, chunks, chunk results and row
   * lists: patient data) before they are removed; 0 removes them as soon as it is finished (at the
   * end of `trace`, or at the worker's next sweep). batch.json and the outputs stay. Default 168
   * (7 days): long enough to `retry` a batch's error rows after an SMSP outage.
   */
  PDS_TRACE_WORK_RETENTION_HOURS: z.coerce.number().int().min(0).default(168),
  /**
   * Hours during which the same input bytes submitted again are refused as a duplicate, naming the
   * earlier batch (`trace --again` overrides); a batch still in progress counts however old. 0: only
   * batches in progress count. Default 24.
   */
  PDS_TRACE_DUPLICATE_WINDOW_HOURS: z.coerce.number().int().min(0).default(24),
  /** The nightly schedules file (JSON; src/intake/schedules/schedule-file.ts). */
  PDS_TRACE_SCHEDULES: optionalString,
  /**
   * The watched folders of this deployment, separated by `:` (as PATH is): what `pds-trace watch`
   * watches when given no folder, and what `pds-trace doctor` checks.
   */
  PDS_TRACE_WATCH_FOLDERS: optionalString,
  /**
   * PostgreSQL URL of the audit store (the restricted application role that may only INSERT and
   * SELECT; see src/audit/pg-store.ts). Unset means the append-only file store under
   * `<PDS_TRACE_DATA_DIR>/audit/`, for single-machine use.
   */
  AUDIT_DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  /** A file holding AUDIT_DATABASE_URL (it carries the role's password): a Compose secret or systemd credential. */
  AUDIT_DATABASE_URL_FILE: optionalString,
  /**
   * PEM certificate and key of `pds-trace serve`: set both and it speaks HTTPS (and marks its
   * cookies Secure); neither, plain HTTP (on 127.0.0.1, or behind a proxy that terminates TLS).
   */
  PDS_TRACE_WEB_TLS_CERT: optionalString,
  PDS_TRACE_WEB_TLS_KEY: optionalString,
  /** Minutes a web session lasts without a request before its user must sign in again. */
  PDS_TRACE_WEB_IDLE_MINUTES: positiveInt.max(24 * 60).default(15),
  /** Sign-in attempts one client address may make per minute (web page and API together). */
  PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: positiveInt.default(10),
  /**
   * Largest file the web upload takes, in megabytes (MiB); a larger one is cut off, removed and
   * refused. The file is streamed to disk, so this bounds disk, not memory. Default 512 (about
   * 5 million rows of a typical cohort).
   */
  PDS_TRACE_WEB_UPLOAD_MAX_MB: positiveInt.max(1024 * 1024).default(512),
  /** The batch page warns (and offers to cancel) when fewer than this percentage of the first rows find the person. */
  PDS_TRACE_WEB_LOW_MATCH_PERCENT: z.coerce.number().int().min(0).max(100).default(50),
  /** Rows PDS must have answered about (errors and rejected rows aside) before the low-match warning may show. */
  PDS_TRACE_WEB_LOW_MATCH_ROWS: positiveInt.default(50),
  /** error | warn | info | debug */
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  /**
   * How log lines are written: `text` (one readable line each) or `json` (JSON lines, for log
   * collectors). Unset: text on a terminal, JSON lines otherwise. `--log-format` sets it for one run.
   */
  PDS_TRACE_LOG_FORMAT: optionalString.pipe(z.enum(['json', 'text']).optional()),
  /** Port of the /metrics, /healthz and /readyz endpoint of `serve`, `worker` and `watch` (each its own; never the web port); unset: none. */
  PDS_TRACE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address that endpoint listens on: loopback unless the monitoring network needs more. */
  PDS_TRACE_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
});

export type LogFormat = 'json' | 'text';

export interface TlsSettings {
  certPath?: string;
  keyPath?: string;
  caPath?: string;
  pfxPath?: string;
  passphrase?: string;
}

export interface SmspSettings {
  url?: string;
  /** PDS_TRACE_SIMULATOR: true asks for the built-in simulator, false forbids it, undefined leaves it to simulator mode. */
  simulator?: boolean;
  /** SMSP_URL_IS_SIMULATOR: the configured endpoint is a simulator service, not PDS. */
  urlIsSimulator?: boolean;
  tls: TlsSettings;
  /** The audit identity sent in every DistributionEnvelope. */
  auditIdentity: { type: 'asid' | 'itk'; uri: string };
  username: string;
  fromAddress: string;
  timeoutMs: number;
  maxInFlight: number;
  maxRatePerSecond: number;
  /** Added to the one-second window of the rate limit (jitter between our start and the provider's arrival). */
  rateSlackMs: number;
  retry: { attempts: number; baseDelayMs: number };
}

export interface Config {
  smsp: SmspSettings;
  redisUrl?: string;
  redisPrefix: string;
  jobs: { lockMs: number; stalledIntervalMs: number; providerHoldMs: number };
  dataDir: string;
  /** PDS_TRACE_WORK_RETENTION_HOURS: hours a finished batch keeps its work files (0: remove at once). */
  workRetentionHours: number;
  /** PDS_TRACE_DUPLICATE_WINDOW_HOURS: hours the same input bytes count as a duplicate (0: only while in progress). */
  duplicateWindowHours: number;
  /** PDS_TRACE_WATCH_FOLDERS, absolute: the watched folders (none: watch takes them as arguments). */
  watchFolders: readonly string[];
  /** PDS_TRACE_SCHEDULES, absolute: the nightly schedules file, if any. */
  schedulesFile?: string;
  /** PostgreSQL audit store; unset means the file store under `<dataDir>/audit/`. */
  auditDatabaseUrl?: string;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** PDS_TRACE_LOG_FORMAT; undefined: text on a terminal, JSON lines otherwise. */
  logFormat?: LogFormat;
  /** The operations endpoint of long-running processes (PDS_TRACE_METRICS_PORT / _HOST). */
  metrics: { port?: number; host: string };
  web: WebSettings;
}

/** Settings of `pds-trace serve` (its host, port and proxy trust are command options). */
export interface WebSettings {
  /** Both set: HTTPS with this certificate and key (absolute paths). */
  tls?: { certPath: string; keyPath: string };
  /** A session idle this long is over, in milliseconds. */
  idleTimeoutMs: number;
  /** Sign-in attempts per client address per minute. */
  signInPerMinute: number;
  /** PDS_TRACE_WEB_UPLOAD_MAX_MB in bytes: the largest upload taken. */
  uploadMaxBytes: number;
  /** The early low-match warning (src/pipeline/low-match.ts): rows to see, and the percentage found below which to warn. */
  lowMatch: { minRows: number; percent: number };
}

/** A setting is missing or malformed. The message names each bad setting and what it needs. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Settings that hold a secret, each also taken from a file named by `<NAME>_FILE` (a Compose secret
 * under /run/secrets, a systemd credential), so the secret itself never sits in an environment that
 * `docker inspect`, `/proc/<pid>/environ` or a unit file shows. One or the other, never both.
 */
export const SECRET_FILE_SETTINGS = ['AUDIT_DATABASE_URL', 'REDIS_URL', 'SMSP_TLS_PASSPHRASE'] as const;

/**
 * The secret in `file`, for `setting` (`…_FILE`): its text without the line ending an editor or
 * `echo` leaves. Unreadable or empty is a configuration error naming the setting, never the content.
 */
export function readSecretFile(setting: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  const secret = text.replace(/[\r\n]+$/, '');
  if (secret === '') throw new ConfigError([`${setting}: ${file} is empty`]);
  return secret;
}

/** Fills each secret setting from its `_FILE`, refusing both at once. */
function secretsFromFiles(merged: Env, cwd: string): string[] {
  const problems: string[] = [];
  for (const name of SECRET_FILE_SETTINGS) {
    const file = merged[`${name}_FILE`];
    if (file === undefined || file.trim() === '') continue;
    if (merged[name] !== undefined && merged[name]!.trim() !== '') {
      problems.push(`${name}_FILE: ${name} is set too; give the secret one way`);
      continue;
    }
    try {
      merged[name] = readSecretFile(`${name}_FILE`, path.resolve(cwd, file));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  return problems;
}

/** ASID used against the built-in simulator when none is configured; never valid on a real SMSP. */
export const SIMULATOR_ASID = '999000000001';

type Env = Record<string, string | undefined>;

function readConfigFile(file: string): Env {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`PDS_TRACE_CONFIG: cannot read ${file} as JSON (${(err as Error).message})`]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`PDS_TRACE_CONFIG: ${file} must hold a JSON object of SETTING: value pairs`]);
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v === null ? undefined : String(v)]));
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Readonly<Config> {
  const fromFile = env.PDS_TRACE_CONFIG ? readConfigFile(path.resolve(cwd, env.PDS_TRACE_CONFIG)) : {};
  const known = Object.keys(SETTINGS.shape);
  const merged: Env = { ...fromFile };
  // An empty variable is unset, never an override: `AUDIT_DATABASE_URL= pds-trace …` must not
  // quietly send one command's audit events to another store than the config file names.
  for (const key of known) if (env[key] !== undefined && env[key]!.trim() !== '') merged[key] = env[key];
  const unknownInFile = Object.keys(fromFile).filter((k) => !known.includes(k));
  const problems = unknownInFile.map((k) => `${k}: unknown setting in ${env.PDS_TRACE_CONFIG}`);
  problems.push(...secretsFromFiles(merged, cwd));

  const result = SETTINGS.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${String(issue.path[0])}: ${issue.message}`);
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const s = result.data;

  if (s.SMSP_URL_IS_SIMULATOR && !s.SMSP_URL) problems.push('SMSP_URL_IS_SIMULATOR: says what SMSP_URL is, so SMSP_URL must be set');
  if (s.SMSP_URL && s.PDS_TRACE_SIMULATOR === true) {
    problems.push('PDS_TRACE_SIMULATOR: true asks for the built-in simulator, so SMSP_URL must be unset (choose one provider)');
  }
  if (s.SMSP_URL) {
    if (!s.SMSP_ASID && !s.SMSP_AUDIT_IDENTITY) problems.push('SMSP_ASID: required when SMSP_URL is set (or set SMSP_AUDIT_IDENTITY)');
    if (!s.SMSP_TLS_PFX && !(s.SMSP_TLS_CERT && s.SMSP_TLS_KEY)) {
      problems.push('SMSP_TLS_CERT and SMSP_TLS_KEY (or SMSP_TLS_PFX): a client certificate is required when SMSP_URL is set');
    }
  }
  if (s.SMSP_TLS_PFX && (s.SMSP_TLS_CERT || s.SMSP_TLS_KEY)) {
    problems.push('SMSP_TLS_PFX: give either a PKCS#12 file or SMSP_TLS_CERT/SMSP_TLS_KEY, not both');
  }
  if (Boolean(s.SMSP_TLS_CERT) !== Boolean(s.SMSP_TLS_KEY)) {
    problems.push('SMSP_TLS_CERT / SMSP_TLS_KEY: set both or neither');
  }
  if (Boolean(s.PDS_TRACE_WEB_TLS_CERT) !== Boolean(s.PDS_TRACE_WEB_TLS_KEY)) {
    problems.push('PDS_TRACE_WEB_TLS_CERT / PDS_TRACE_WEB_TLS_KEY: set both (HTTPS) or neither (HTTP)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const resolve = (p: string | undefined) => (p ? path.resolve(cwd, p) : undefined);
  const config: Config = {
    smsp: {
      url: s.SMSP_URL,
      simulator: s.PDS_TRACE_SIMULATOR,
      urlIsSimulator: s.SMSP_URL_IS_SIMULATOR ?? false,
      tls: {
        certPath: resolve(s.SMSP_TLS_CERT),
        keyPath: resolve(s.SMSP_TLS_KEY),
        caPath: resolve(s.SMSP_TLS_CA),
        pfxPath: resolve(s.SMSP_TLS_PFX),
        passphrase: s.SMSP_TLS_PASSPHRASE,
      },
      auditIdentity: s.SMSP_AUDIT_IDENTITY
        ? { type: 'itk', uri: s.SMSP_AUDIT_IDENTITY }
        : { type: 'asid', uri: s.SMSP_ASID ?? SIMULATOR_ASID },
      username: s.SMSP_USERNAME ?? 'pds-trace',
      fromAddress: s.SMSP_FROM_ADDRESS ?? 'urn:pds-trace:client',
      timeoutMs: s.SMSP_TIMEOUT_MS,
      maxInFlight: s.SMSP_MAX_IN_FLIGHT,
      maxRatePerSecond: s.SMSP_MAX_RATE,
      rateSlackMs: s.SMSP_RATE_SLACK_MS,
      retry: { attempts: s.SMSP_RETRY_ATTEMPTS, baseDelayMs: s.SMSP_RETRY_BASE_MS },
    },
    redisUrl: s.REDIS_URL,
    redisPrefix: s.REDIS_PREFIX,
    jobs: { lockMs: s.JOB_LOCK_MS, stalledIntervalMs: s.JOB_STALLED_INTERVAL_MS, providerHoldMs: s.JOB_PROVIDER_HOLD_MS },
    dataDir: path.resolve(cwd, s.PDS_TRACE_DATA_DIR ?? '.pds-trace'),
    workRetentionHours: s.PDS_TRACE_WORK_RETENTION_HOURS,
    duplicateWindowHours: s.PDS_TRACE_DUPLICATE_WINDOW_HOURS,
    watchFolders: (s.PDS_TRACE_WATCH_FOLDERS ?? '').split(path.delimiter).filter((f) => f.trim() !== '').map((f) => path.resolve(cwd, f.trim())),
    schedulesFile: resolve(s.PDS_TRACE_SCHEDULES),
    auditDatabaseUrl: s.AUDIT_DATABASE_URL,
    logLevel: s.LOG_LEVEL,
    logFormat: s.PDS_TRACE_LOG_FORMAT,
    metrics: { port: s.PDS_TRACE_METRICS_PORT, host: s.PDS_TRACE_METRICS_HOST },
    web: {
      tls: s.PDS_TRACE_WEB_TLS_CERT && s.PDS_TRACE_WEB_TLS_KEY ? { certPath: resolve(s.PDS_TRACE_WEB_TLS_CERT)!, keyPath: resolve(s.PDS_TRACE_WEB_TLS_KEY)! } : undefined,
      idleTimeoutMs: s.PDS_TRACE_WEB_IDLE_MINUTES * 60_000,
      signInPerMinute: s.PDS_TRACE_WEB_SIGN_IN_PER_MINUTE,
      uploadMaxBytes: s.PDS_TRACE_WEB_UPLOAD_MAX_MB * 1024 * 1024,
      lowMatch: { minRows: s.PDS_TRACE_WEB_LOW_MATCH_ROWS, percent: s.PDS_TRACE_WEB_LOW_MATCH_PERCENT },
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
