/**
 * A large upload through `POST /api/batches`, the way a script sends one: `benchWebUpload(rows)`
 * writes a synthetic cohort, starts the built `pds-trace serve` in its own process (with REDIS_URL,
 * so the batch is queued and nothing traces it here: what is measured is the upload alone, from
 * the first byte sent to the 202), streams the file to it as multipart and samples the server's
 * resident memory meanwhile. The server streams the upload to disk, checks it and hands it to the
 * intake (hash and copy); its peak RSS should not grow with the file. Called by bench/run.ts;
 * runnable alone with `npx tsx bench/web-upload.ts [rows]` after `npm run build`.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { openAuditStore } from '../src/audit/store.js';
import { hashPassword } from '../src/auth/password.js';
import { openRecordedUserStore } from '../src/auth/recorded-user-store.js';
import { writeSyntheticCohort } from './csv-normalise.js';
import { node, waitForOutput } from './pipeline.js';
import { ProcessSampler } from './process-stats.js';

export interface WebUploadBenchResult {
  rows: number;
  megabytes: number;
  seconds: number;
  megabytesPerSecond: number;
  rowsPerSecond: number;
  /** The server's resident memory once started and signed in to, before the upload. */
  idleRssMb: number;
  /** Its peak resident memory (VmHWM) by the time the upload was answered. */
  peakRssMb: number;
}

const PASSWORD = 'synthetic-bench-passphrase';
/** Cheap to check: the benchmark measures the upload, not the password hash. */
const FAST_SCRYPT = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

export async function benchWebUpload(options: { rows: number; redisUrl: string; nodeArgs?: string[] }): Promise<WebUploadBenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pds-trace-bench-upload-'));
  const dataDir = path.join(dir, 'data');
  const prefix = `pds-trace-bench-upload-${process.pid}-${Date.now()}`;
  await addTracer(dataDir);
  const file = path.join(dir, 'cohort.csv');
  await writeSyntheticCohort(file, options.rows);
  const bytes = (await stat(file)).size;

  const server = node(['serve', '--port', '0'], { PDS_TRACE_DATA_DIR: dataDir, PDS_TRACE_SIMULATOR: 'true', REDIS_URL: options.redisUrl, REDIS_PREFIX: prefix, PDS_TRACE_WEB_UPLOAD_MAX_MB: '4096' }, options.nodeArgs);
  try {
    const url = (await waitForOutput(server, /pds-trace web service at (\S+)/))[1]!;
    const session = await signIn(url);
    const sampler = new ProcessSampler(server.pid!, 50);
    sampler.sample();
    const idleRssMb = sampler.peakRssMb;
    const started = process.hrtime.bigint();
    const answer = await postMultipart(new URL('/api/batches', url), session, file, bytes);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    sampler.stop();
    if (answer.status !== 202) throw new Error(`upload answered ${answer.status}: ${answer.body}`);
    const megabytes = bytes / 1024 / 1024;
    return { rows: options.rows, megabytes, seconds, megabytesPerSecond: megabytes / seconds, rowsPerSecond: options.rows / seconds, idleRssMb, peakRssMb: sampler.peakRssMb };
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => (server.exitCode === null ? server.once('exit', resolve) : resolve(undefined)));
    await deleteKeys(options.redisUrl, prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

/** One tracer, recorded as the commands record users, so the server signs them in. */
async function addTracer(dataDir: string): Promise<void> {
  const audit = await openAuditStore({ dataDir });
  try {
    const users = await openRecordedUserStore(dataDir, { sink: audit, trail: audit });
    await users.add({ id: 'bench-admin', kind: 'person', roles: ['admin'], passwordHash: await hashPassword(PASSWORD, FAST_SCRYPT) }, { firstOnly: true });
    await users.add({ id: 'bench', kind: 'person', roles: ['tracer'], passwordHash: await hashPassword(PASSWORD, FAST_SCRYPT) });
  } finally {
    await audit.close();
  }
}

interface Session {
  cookie: string;
  csrfToken: string;
}

async function signIn(url: string): Promise<Session> {
  const response = await fetch(new URL('/api/session', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'bench', password: PASSWORD }) });
  if (response.status !== 200) throw new Error(`sign-in refused: ${response.status} ${await response.text()}`);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('pds_trace_session='))!.split(';')[0]!;
  return { cookie, csrfToken: ((await response.json()) as { csrfToken: string }).csrfToken };
}

/** The file as one multipart part, streamed from disk (this process never holds it either). */
function postMultipart(url: URL, session: Session, file: string, bytes: number): Promise<{ status: number; body: string }> {
  const boundary = `bench${Date.now()}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench-cohort.csv"\r\nContent-Type: text/csv\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + bytes + tail.length) },
    });
    request.once('error', reject);
    request.once('response', (response) => {
      let body = '';
      response.on('data', (d) => (body += String(d)));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.write(head);
    const content = createReadStream(file);
    content.once('error', reject);
    content.on('end', () => request.end(tail));
    content.pipe(request, { end: false });
  });
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = Number(process.argv[2] ?? 100_000);
  console.log(await benchWebUpload({ rows, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', nodeArgs: ['--max-old-space-size=192', '--v8-pool-size=1'] }));
}
