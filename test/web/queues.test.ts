import { createServer } from 'node:net';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScheduleQueue } from '../../src/intake/schedules/schedule-queue.js';
import { batchPaths, createBatch, saveBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { cancelBatch } from '../../src/pipeline/cancel.js';
import { ProviderMismatchError, SIMULATOR_PROVIDER, smspProvider } from '../../src/pipeline/provider.js';
import { recordProviderHold } from '../../src/pipeline/provider-hold.js';
import { openQueues, type PipelineQueues } from '../../src/pipeline/queues.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { batchOptions, readCsv } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { completedJobs, failedJobs, heldWorker } from './queue-jobs.js';
import { apiSignIn, dataFolderWithPeople, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/**
 * `GET /api/queues` and the `/queues` page on real Redis: each queue's counts as the jobs put
 * there, its pause and its workers, the batches not finished from the data folder, for admins and
 * operators only, with nothing of the rows in it; without REDIS_URL the embedded answer, and with
 * Redis away a quick 503 that names REDIS_URL.
 */

interface QueuesAnswer {
  mode: 'queues' | 'embedded';
  message?: string;
  queues?: Array<{ name: string; state: string; paused: boolean; workers: number; counts: Record<string, number> }>;
  smspLimit: { maxRatePerSecond: number; maxInFlight: number; sharedByWorkers: boolean };
  batches: { unfinished: { count: number; ids: string[] }; held: { count: number; ids: string[] } };
  checkedAt: string;
}

/** A data folder's batches: one waiting to be read, one held for its provider, one cancelled. */
async function batchesIn(dataDir: string, dir: string): Promise<{ waiting: BatchMeta; held: BatchMeta; cancelled: BatchMeta; csv: string }> {
  const cohort = await writeCohort({ seed: 'web-queues', size: 500, rows: 12, outDir: path.join(dir, 'cohorts'), name: 'queues-cohort-zebra' });
  const make = (user: string, at: string) => createBatch(dataDir, cohort.csvPath, batchOptions(path.join(dir, 'out'), { user }), SIMULATOR_PROVIDER, new Date(at));
  const waiting = await make('tess', '2026-12-06T09:00:00Z');
  const ingested = { ...(await make('ann', '2026-12-06T09:01:00Z')), state: 'ingested' as const };
  await saveBatch(batchPaths(dataDir, ingested.id), ingested);
  await recordProviderHold(dataDir, new ProviderMismatchError(ingested.id, SIMULATOR_PROVIDER, smspProvider('https://smsp.other.example/pds')));
  const cancelled = await cancelBatch(dataDir, await make('tom', '2026-12-06T09:02:00Z'), 'tom');
  return { waiting, held: ingested, cancelled, csv: cohort.csvPath };
}

describe('the queues view with REDIS_URL, on real Redis', () => {
  const prefix = uniquePrefix('web-queues');
  let redis: Redis;
  let pipeline: PipelineQueues;
  let schedule: Queue;
  let web: WebFixture;
  let batches: Awaited<ReturnType<typeof batchesIn>>;
  let traceWorker: { release(): Promise<void> };
  const sessions = new Map<string, ApiSession>();

  beforeAll(async () => {
    redis = connectTestRedis();
    pipeline = openQueues(redis, prefix);
    schedule = openScheduleQueue(redis, prefix);
    const { dir, dataDir } = await dataFolderWithPeople();
    batches = await batchesIn(dataDir, dir);

    // ingest: two failed; assemble: three completed (their workers gone); schedule: two held by a pause.
    await failedJobs(pipeline.ingest, [{ jobId: 'ingest-a', data: { batchId: 'b-a' } }, { jobId: 'ingest-b', data: { batchId: 'b-b' } }]);
    await completedJobs(pipeline.assemble, ['x', 'y', 'z'].map((c) => ({ jobId: `assemble-${c}`, data: { batchId: `b-${c}` } })));
    await schedule.pause();
    for (const slot of [1, 2]) await schedule.add('scheduled-run', { schedule: 'nightly', slot }, { jobId: `run-${slot}` });
    // trace: one held by a running worker, two waiting (one with a priority, as uploads have), one delayed.
    await pipeline.trace.add('trace', { batchId: 'b-t', chunk: 0 }, { jobId: 'trace-0' });
    traceWorker = await heldWorker(pipeline.trace);
    await pipeline.trace.add('trace', { batchId: 'b-t', chunk: 1 }, { jobId: 'trace-1' });
    await pipeline.trace.add('trace', { batchId: 'b-t', chunk: 2 }, { jobId: 'trace-2', priority: 10 });
    await pipeline.trace.add('trace', { batchId: 'b-t', chunk: 3 }, { jobId: 'trace-3', delay: 3_600_000 });

    web = await webApp(webConfig(dataDir, { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, SMSP_MAX_RATE: '15', SMSP_MAX_IN_FLIGHT: '6', PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    for (const id of ['ada', 'otto', 'tess', 'ann', 'aud']) sessions.set(id, await apiSignIn(web.app, id));
  }, 120_000);
  afterAll(async () => {
    await traceWorker?.release();
    await web?.close();
    await pipeline?.close();
    await schedule?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
  });

  const as = (id: string, url: string) => web.app.inject({ method: 'GET', url, headers: { cookie: sessions.get(id)!.cookie } });

  it('counts each queue\'s jobs by state as they were put there, with its pause and its workers', async () => {
    const response = await as('otto', '/api/queues');
    expect(response.statusCode).toBe(200);
    const answer = response.json() as QueuesAnswer;
    expect(answer.mode).toBe('queues');
    const byName = Object.fromEntries(answer.queues!.map((q) => [q.name, q]));
    expect(answer.queues!.map((q) => q.name)).toEqual(['ingest', 'trace', 'assemble', 'schedule']);
    const none = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, paused: 0 };
    expect(byName.ingest).toEqual({ name: 'ingest', state: 'no_workers', paused: false, workers: 0, counts: { ...none, failed: 2 } });
    expect(byName.trace).toEqual({ name: 'trace', state: 'running', paused: false, workers: 1, counts: { ...none, active: 1, waiting: 2, delayed: 1 } });
    expect(byName.assemble).toEqual({ name: 'assemble', state: 'no_workers', paused: false, workers: 0, counts: { ...none, completed: 3 } });
    expect(byName.schedule).toEqual({ name: 'schedule', state: 'paused', paused: true, workers: 0, counts: { ...none, paused: 2 } });
    expect(answer.smspLimit).toEqual({ maxRatePerSecond: 15, maxInFlight: 6, sharedByWorkers: true });
    expect(answer.batches).toEqual({
      unfinished: { count: 2, ids: [batches.waiting.id, batches.held.id] },
      held: { count: 1, ids: [batches.held.id] },
    });
    expect(Date.parse(answer.checkedAt)).not.toBeNaN();
  });

  it('follows the queues: a job added and a queue resumed show at the next look', async () => {
    await pipeline.ingest.add('ingest', { batchId: 'b-new' }, { jobId: 'ingest-new' });
    await schedule.resume();
    try {
      const answer = (await as('ada', '/api/queues')).json() as QueuesAnswer;
      const byName = Object.fromEntries(answer.queues!.map((q) => [q.name, q]));
      expect(byName.ingest!.counts.waiting).toBe(1);
      expect(byName.schedule).toMatchObject({ state: 'no_workers', paused: false, counts: { waiting: 2, paused: 0 } });
    } finally {
      await schedule.pause();
      await (await pipeline.ingest.getJob('ingest-new'))?.remove();
    }
  });

  it('holds no patient data: no value of the input file, no file name, no user; ids and counts only', async () => {
    const bodies = [(await as('ada', '/api/queues')).body, (await as('otto', '/queues')).body];
    const text = bodies.join('\n');
    expect(text).toContain(batches.held.id);
    const values = new Set(readCsv(batches.csv).flatMap((row) => Object.values(row)).filter((v) => v.trim().length >= 3));
    expect(values.size).toBeGreaterThan(30);
    const tokens = new Set(text.split(/[^A-Za-z0-9]+/));
    const found = [...values].filter((v) => (/^[A-Za-z0-9]+$/.test(v) ? tokens.has(v) : text.includes(v)));
    expect(found).toEqual([]);
    expect(text).not.toContain('queues-cohort-zebra');
    const api = (await as('ada', '/api/queues')).json() as QueuesAnswer;
    for (const id of ['tess', 'ann', 'tom']) expect(JSON.stringify(api)).not.toContain(`"${id}"`);
  });

  it('refuses tracers, analysts and auditors (403, audited), for the API and the page', async () => {
    for (const id of ['tess', 'ann', 'aud']) {
      const api = await as(id, '/api/queues');
      expect([api.statusCode, (api.json() as { code: string }).code], id).toEqual([403, 'forbidden']);
      expect((await as(id, '/queues')).statusCode, id).toBe(403);
      const refusals = await web.audit.search({ kind: 'access_denied', user: id });
      expect(refusals.map((e) => e.detail), id).toEqual(expect.arrayContaining(['api=GET /api/queues', 'page=/queues']));
    }
  });

  it('shows the page to an operator: the queues table with state tags, the limit, the held batch and the dashboard link', async () => {
    const page = await as('otto', '/queues');
    expect(page.statusCode).toBe(200);
    const html = page.body;
    expect(html).toContain('data-testid="queues"');
    expect(html).toMatch(/data-queue="schedule"[\s\S]*?nhsuk-tag--orange[^>]*>\s*Paused/);
    expect(html).toMatch(/data-queue="trace"[\s\S]*?nhsuk-tag--green[^>]*>\s*Running/);
    expect(html).toMatch(/data-queue="ingest"[\s\S]*?data-count="failed">2</);
    expect(html).toContain('15 (SMSP_MAX_RATE)');
    expect(html).toContain(`<a href="/batches/${batches.held.id}">${batches.held.id}</a>`);
    expect(html).toContain('href="/admin/dashboard" data-testid="dashboard-link"');
    expect(html).toContain('to pause, resume, retry, promote or clean them');
    // An admin sees the board read-only: the link, without the operator's actions offered.
    const admin = (await as('ada', '/queues')).body;
    expect(admin).toContain('data-testid="dashboard-link"');
    expect(admin).not.toContain('to pause, resume');
    expect(html).toContain('<script type="module" src="/app/queues-refresh.mjs"></script>');
    // The header's Queues link opens this page; the dashboard is reached from it.
    expect(html).toMatch(/class="nhsuk-header__navigation-link" href="\/queues">Queues</);
    expect(html).not.toMatch(/nhsuk-header__navigation-link" href="\/admin\/dashboard"/);
  });
});

describe('the queues view without REDIS_URL', () => {
  it('says uploads are traced in the server (embedded), with the limit and the batches not finished', async () => {
    const { dir, dataDir } = await dataFolderWithPeople();
    const { waiting, held } = await batchesIn(dataDir, dir);
    const web = await webApp(webConfig(dataDir));
    try {
      const session = await apiSignIn(web.app, 'ada');
      const response = await web.app.inject({ method: 'GET', url: '/api/queues', headers: { cookie: session.cookie } });
      expect(response.statusCode).toBe(200);
      const answer = response.json() as QueuesAnswer;
      expect(answer).toMatchObject({ mode: 'embedded', smspLimit: { maxRatePerSecond: 20, maxInFlight: 8, sharedByWorkers: false } });
      expect(answer.message).toMatch(/REDIS_URL is not set.*traces uploads in its own process/);
      expect(answer.queues).toBeUndefined();
      expect(answer.batches.unfinished.ids).toEqual([waiting.id, held.id]);
      const page = await web.app.inject({ method: 'GET', url: '/queues', headers: { cookie: session.cookie } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('data-testid="embedded"');
      expect(page.body).not.toContain('data-testid="queues"');
      expect(page.body).not.toContain('data-testid="dashboard-link"');
    } finally {
      await web.close();
    }
  });
});

/** A port nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the queues view with Redis not answering', () => {
  it('answers 503 redis_unreachable within seconds, naming REDIS_URL without its password', async () => {
    const port = await closedPort();
    const { dataDir } = await dataFolderWithPeople();
    const web = await webApp(webConfig(dataDir, { REDIS_URL: `redis://:hush-hush@127.0.0.1:${port}`, REDIS_PREFIX: uniquePrefix('web-queues-down') }));
    try {
      const session = await apiSignIn(web.app, 'otto');
      for (const attempt of [1, 2]) {
        const started = Date.now();
        const response = await web.app.inject({ method: 'GET', url: '/api/queues', headers: { cookie: session.cookie } });
        expect(Date.now() - started, `attempt ${attempt}`).toBeLessThan(3_000);
        expect(response.statusCode).toBe(503);
        const problem = response.json() as { code: string; message: string };
        expect(problem.code).toBe('redis_unreachable');
        expect(problem.message).toContain(`REDIS_URL redis://:***@127.0.0.1:${port}`);
        expect(problem.message).not.toContain('hush-hush');
      }
      const started = Date.now();
      const page = await web.app.inject({ method: 'GET', url: '/queues', headers: { cookie: session.cookie } });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(page.statusCode).toBe(503);
      expect(page.body).toMatch(/data-testid="unreachable"\s*>/);
      expect(page.body).toContain('ECONNREFUSED');
    } finally {
      await web.close();
    }
  }, 30_000);
});
