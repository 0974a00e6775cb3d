import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { MISUSE_WARNING } from '../../src/cli/session.js';
import { serveTracing } from '../../src/cli/serve-command.js';
import type { Config } from '../../src/config.js';
import { startWebServer, type RunningWebServer } from '../../src/web/start.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { dataFolderWithPeople, FAST_SCRYPT, passwordOf, webConfig } from './web-support.js';

/** The population the simulator serves and the cohorts are drawn from (same seed and size). */
export const POPULATION = { seed: 'upload', size: 2000 } as const;

export interface UploadServer {
  url: string;
  dir: string;
  dataDir: string;
  config: Readonly<Config>;
  simulator: TestSimulator;
  server: RunningWebServer;
  close(): Promise<void>;
}

/**
 * `serve` as the command starts it (its own runner choice, serveTracing), over a data folder with
 * one person per role, tracing against a test simulator over mutual TLS. `env` adds settings
 * (REDIS_URL for the queues).
 */
export async function startUploadServer(env: Record<string, string> = {}, reuse?: Pick<UploadServer, 'dir' | 'dataDir' | 'simulator'>, latencyMs = 1): Promise<UploadServer> {
  const { dir, dataDir } = reuse ?? (await dataFolderWithPeople());
  const simulator = reuse?.simulator ?? (await startTestSimulator({ ...POPULATION, latencyMs, certDir: path.join(dir, 'sim-certs') }));
  const config = webConfig(dataDir, { ...smspClientEnv(simulator, dataDir), PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000', ...env });
  const server = await startWebServer({ config, host: '127.0.0.1', port: 0, trustProxy: false, misuseWarning: MISUSE_WARNING, passwordParams: FAST_SCRYPT, openTracing: serveTracing(config) });
  return {
    url: server.url,
    dir,
    dataDir,
    config,
    simulator,
    server,
    close: async () => {
      await server.close();
      if (!reuse) await simulator.close();
    },
  };
}

export interface Session {
  cookie: string;
  csrfToken: string;
}

export async function signIn(url: string, userId: string): Promise<Session> {
  const response = await fetch(new URL('/api/session', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, password: passwordOf(userId) }) });
  if (response.status !== 200) throw new Error(`sign-in of ${userId}: ${response.status}`);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('pds_trace_session='))!.split(';')[0]!;
  return { cookie, csrfToken: ((await response.json()) as { csrfToken: string }).csrfToken };
}

export function uploadForm(content: string | Uint8Array, fileName: string, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([content], { type: 'text/csv' }), fileName);
  return form;
}

/** `POST /api/batches` as a script sends it. */
export function apiUpload(url: string, session: Session, form: FormData, options: { csrf?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (options.csrf !== false) headers['x-csrf-token'] = session.csrfToken;
  return fetch(new URL('/api/batches', url), { method: 'POST', headers, body: form });
}

export async function getJson<T>(url: string, session: Session, route: string): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(route, url), { headers: { cookie: session.cookie } });
  return { status: response.status, body: (await response.json()) as T };
}

export interface BatchJson {
  id: string;
  state: string;
  rows: number | null;
  done: number;
  byStatus: Record<string, number>;
}

/** Polls `GET /api/batches/:id` until the batch is finished (assembled, rejected or cancelled). */
export async function waitForBatch(url: string, session: Session, id: string, timeoutMs = 120_000): Promise<BatchJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getJson<BatchJson>(url, session, `/api/batches/${id}`);
    if (['assembled', 'rejected', 'cancelled'].includes(body.state)) return body;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${body.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What is left in the uploads folder (nothing, once every upload is traced, cancelled or refused). */
export async function uploadsLeft(dataDir: string): Promise<string[]> {
  return readdir(path.join(dataDir, 'web', 'uploads')).catch(() => []);
}

export async function batchIds(dataDir: string): Promise<string[]> {
  return readdir(path.join(dataDir, 'batches')).catch(() => []);
}
