import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { openAuditStore } from '../../src/audit/store.js';
import type { AuditStore } from '../../src/audit/store.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { hashPassword, type ScryptParams } from '../../src/auth/password.js';
import { openRecordedUserStore } from '../../src/auth/recorded-user-store.js';
import type { Role } from '../../src/auth/roles.js';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient } from '../../src/smsp/client.js';
import { buildWebApp } from '../../src/web/server.js';
import { recordedUsers } from '../support/accounts.js';
import { batchOptions, tempDir } from '../support/pipeline.js';
import { startTestSimulator } from '../support/simulator.js';

export const FAST_SCRYPT: ScryptParams = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

/** One person per role (tracers twice, for ownership), each with the password `PASSWORDS[id]`. */
export const PEOPLE: ReadonlyArray<{ id: string; role: Role }> = [
  { id: 'ada', role: 'admin' },
  { id: 'tess', role: 'tracer' },
  { id: 'tom', role: 'tracer' },
  { id: 'ann', role: 'analyst' },
  { id: 'aud', role: 'auditor' },
  { id: 'otto', role: 'operator' },
];

export const passwordOf = (id: string) => `synthetic-${id}-passphrase`;

/** A data folder with one person per role, recorded as the commands record them. */
export async function dataFolderWithPeople(): Promise<{ dir: string; dataDir: string }> {
  const dir = await tempDir('web');
  const dataDir = path.join(dir, 'data');
  const users = await recordedUsers(dataDir);
  for (const [i, person] of PEOPLE.entries()) {
    await users.add({ id: person.id, kind: 'person', roles: [person.role], passwordHash: await hashPassword(passwordOf(person.id), FAST_SCRYPT) }, { firstOnly: i === 0 });
  }
  return { dir, dataDir };
}

export function webConfig(dataDir: string, extra: Record<string, string> = {}): Readonly<Config> {
  // Warnings only, as runCli: a line per request would bury a failing test's own output.
  return loadConfig({ PDS_TRACE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...extra });
}

export interface WebFixture {
  app: FastifyInstance;
  audit: AuditStore;
  close(): Promise<void>;
}

/** The app as `serve` builds it, on a data folder, not listening (Fastify inject). */
export async function webApp(config: Readonly<Config>, options: { clock?: () => number; trustProxy?: boolean } = {}): Promise<WebFixture> {
  const audit = await openAuditStore(config);
  const users = await openRecordedUserStore(config.dataDir, { sink: audit, trail: audit, origin: config.smsp.auditIdentity.uri });
  const app = await buildWebApp({ config, users, audit, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT, clock: options.clock, trustProxy: options.trustProxy });
  return {
    app,
    audit,
    close: async () => {
      await app.close();
      await audit.close();
    },
  };
}

/** The audit trail of a data folder as it stands (searched with `query`), read as an auditor's tools read it. */
export async function auditTrail(dataDir: string, query?: Parameters<AuditStore['search']>[0]): Promise<AuditEvent[]> {
  const audit = await openAuditStore({ dataDir });
  try {
    return await audit.search(query);
  } finally {
    await audit.close();
  }
}

/** The `name=value` of the session cookie a response set. */
export function sessionCookie(response: LightMyRequestResponse): string | undefined {
  const cookie = response.cookies.find((c) => c.name === 'pds_trace_session');
  return cookie ? `${cookie.name}=${cookie.value}` : undefined;
}

export interface ApiSession {
  cookie: string;
  csrfToken: string;
}

/** Signs in through `POST /api/session`. */
export async function apiSignIn(app: FastifyInstance, userId: string, password = passwordOf(userId)): Promise<ApiSession> {
  const response = await app.inject({ method: 'POST', url: '/api/session', payload: { userId, password } });
  if (response.statusCode !== 200) throw new Error(`sign-in of ${userId} refused: ${response.statusCode} ${response.body}`);
  return { cookie: sessionCookie(response)!, csrfToken: (response.json() as { csrfToken: string }).csrfToken };
}

/** The CSRF token of the first form on a page. */
export function csrfTokenIn(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no CSRF token on the page');
  return token;
}

/**
 * A finished batch submitted by `user`: a small generated cohort traced by the embedded runner
 * against the simulator over mutual TLS, recorded as made on the built-in simulator (SIMULATED).
 */
export async function tracedBatch(dataDir: string, outDir: string, user: string, rows = 20, submittedAt = new Date()): Promise<BatchMeta> {
  const simulator = await startTestSimulator({ seed: 'web', size: 2000, latencyMs: 1 });
  const audit = await openAuditStore({ dataDir });
  try {
    const settings = { ...loadConfig({}).smsp, url: simulator.url };
    const client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 4, maxRatePerSecond: 200, windowSlackMs: 100 }) });
    try {
      const cohort = await writeCohort({ seed: 'web', size: 2000, rows, outDir, name: `cohort-${user}` });
      const batch = await createBatch(dataDir, cohort.csvPath, batchOptions(outDir, { user, roles: ['tracer'] }), SIMULATOR_PROVIDER, submittedAt);
      const run = await runBatchEmbedded(dataDir, batch, { caller: client, audit, maxInFlight: 4 });
      return run.meta;
    } finally {
      client.close();
    }
  } finally {
    await audit.close();
    await simulator.close();
  }
}
