import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBatch } from '../../src/pipeline/batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { expectResultsMatchGroundTruth, readCsv } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { apiUpload, getJson, POPULATION, signIn, startUploadServer, uploadForm, waitForBatch, type Session, type UploadServer } from './upload-support.js';
import { dataFolderWithPeople } from './web-support.js';
import { ageBatch, interruptedBatch } from './batch-actions-support.js';

/**
 * Resume and retry from the web service (`POST /api/batches/:id/resume|retry`), against `serve`
 * as the command starts it: batches first traced against a simulator that fails a share of its
 * requests (ITK 2200, not retryable: those rows end as `error`), then the same simulator address
 * answering properly, as a provider that has recovered.
 */

interface Uploaded {
  id: string;
  expectedPath: string;
  errors: number;
}

function post(url: string, session: Session, route: string, form = false): Promise<Response> {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  else headers['x-csrf-token'] = session.csrfToken;
  return fetch(new URL(route, url), { method: 'POST', headers, body: form ? `_csrf=${encodeURIComponent(session.csrfToken)}` : undefined, redirect: 'manual' });
}

async function page(url: string, session: Session, id: string): Promise<string> {
  return (await fetch(new URL(`/batches/${id}`, url), { headers: { cookie: session.cookie } })).text();
}

/** Polls the batch page until it says the retry has ended. */
async function retryEnded(url: string, session: Session, id: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const html = await page(url, session, id);
    if (/were traced again|stopped before it finished/.test(html)) return html;
    if (Date.now() > deadline) throw new Error(`retry of ${id} did not end`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function auditEvents(url: string, auditor: Session, batchId: string, kind: string): Promise<Array<{ user: string; outcome: string; detail?: string }>> {
  const { body } = await getJson<{ events: Array<{ user: string; outcome: string; detail?: string }> }>(url, auditor, `/api/audit/events?batchId=${batchId}&kind=${kind}`);
  return body.events;
}

describe('resuming and retrying batches from the web service', () => {
  let dir: string;
  let dataDir: string;
  let healthy: TestSimulator;
  let web: UploadServer;
  let tess: Session;
  const batches: Uploaded[] = [];
  let redis: Redis | undefined;
  const prefix = uniquePrefix('web-actions');

  beforeAll(async () => {
    ({ dir, dataDir } = await dataFolderWithPeople());
    const certDir = path.join(dir, 'sim-certs');
    const faulty = await startTestSimulator({ ...POPULATION, latencyMs: 1, faults: 'fault2200=0.25', faultSeed: 'web-actions', certDir });
    const first = await startUploadServer({}, { dir, dataDir, simulator: faulty });
    const uploader = await signIn(first.url, 'tess');
    // Of different lengths: the same bytes twice would be refused as a duplicate.
    for (const [name, rows] of [['retry-here', 40], ['retry-queued', 45]] as const) {
      const cohort = await writeCohort({ ...POPULATION, rows, outDir: path.join(dir, 'cohorts'), name });
      const response = await apiUpload(first.url, uploader, uploadForm(readFileSync(cohort.csvPath), `${name}.csv`));
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      const done = await waitForBatch(first.url, uploader, id);
      batches.push({ id, expectedPath: cohort.expectedPath, errors: done.byStatus.error ?? 0 });
    }
    await first.close();
    // The provider recovers at the same address; slow enough that a retry is still running when asked twice.
    await faulty.close();
    healthy = await startTestSimulator({ ...POPULATION, latencyMs: 300, certDir, port: faulty.port });
    web = await startUploadServer({}, { dir, dataDir, simulator: healthy });
    tess = await signIn(web.url, 'tess');
  }, 180_000);

  afterAll(async () => {
    await web?.close();
    await healthy?.close();
    if (redis) {
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });

  it('first traces some rows as error (the simulator failed them)', () => {
    for (const batch of batches) expect(batch.errors).toBeGreaterThan(2);
  });

  it('refuses a retry to another tracer as no such batch (404) and to an auditor by role (403)', async () => {
    const [batch] = batches;
    const tom = await post(web.url, await signIn(web.url, 'tom'), `/api/batches/${batch!.id}/retry`);
    expect(tom.status).toBe(404);
    expect(await tom.json()).toMatchObject({ code: 'not_found' });
    const aud = await post(web.url, await signIn(web.url, 'aud'), `/api/batches/${batch!.id}/retry`);
    expect(aud.status).toBe(403);
  });

  it('retries only the error rows of the submitter\'s batch in the background, once at a time, and rewrites its outputs', async () => {
    const batch = batches[0]!;
    const before = await page(web.url, tess, batch.id);
    expect(before).toContain('data-testid="retry"');
    expect(before).toContain(`${batch.errors} rows could not be traced`);

    const started = await post(web.url, tess, `/api/batches/${batch.id}/retry`);
    expect(started.status).toBe(202);
    expect(await started.json()).toEqual({ id: batch.id, state: 'retrying' });
    const twice = await post(web.url, tess, `/api/batches/${batch.id}/retry`);
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ code: 'retry_running' });

    const after = await retryEnded(web.url, tess, batch.id);
    expect(after).toContain(`${batch.errors} rows sent again, 0 still an error`);
    // Nothing left to retry: the button is gone.
    expect(after).not.toContain('data-testid="retry"');
    // Only the error rows went to the provider again.
    expect(healthy.metrics().requestsTotal).toBe(batch.errors);
    const meta = await loadBatch(dataDir, batch.id);
    const results = expectResultsMatchGroundTruth(meta.outputs!.results, batch.expectedPath);
    expect(results.filter((r) => r.trace_status === 'error')).toEqual([]);
    const auditor = await signIn(web.url, 'aud');
    expect(await auditEvents(web.url, auditor, batch.id, 'batch_retried')).toEqual([expect.objectContaining({ user: 'tess', outcome: 'started' })]);
  }, 90_000);

  it('resumes an interrupted batch once it has stopped (an operator may), tracing it to the end here', async () => {
    const { meta, expectedPath } = await interruptedBatch(web, 'tess', 'interrupted');
    expect(meta.state).toBe('ingested');
    const otto = await signIn(web.url, 'otto');
    // Just written to: it may be being traced, so a second run is refused and no button offered.
    const early = await post(web.url, otto, `/api/batches/${meta.id}/resume`);
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ code: 'not_resumable' });
    expect(await page(web.url, tess, meta.id)).not.toContain('data-testid="resume"');
    // Not finished: nothing to retry.
    const retry = await post(web.url, tess, `/api/batches/${meta.id}/retry`);
    expect(retry.status).toBe(409);
    expect(await retry.json()).toMatchObject({ code: 'not_retryable' });

    await ageBatch(dataDir, meta.id, 10 * 60_000);
    expect(await page(web.url, tess, meta.id)).toContain('data-testid="resume"');
    const resumed = await post(web.url, otto, `/api/batches/${meta.id}/resume`, true);
    expect(resumed.status).toBe(303);
    expect(resumed.headers.get('location')).toBe(`/batches/${meta.id}`);
    const done = await waitForBatch(web.url, tess, meta.id);
    expect(done).toMatchObject({ state: 'assembled', rows: 30, done: 30 });
    expectResultsMatchGroundTruth((await loadBatch(dataDir, meta.id)).outputs!.results, expectedPath);
    const auditor = await signIn(web.url, 'aud');
    expect(await auditEvents(web.url, auditor, meta.id, 'batch_resumed')).toEqual([expect.objectContaining({ user: 'otto', outcome: 'embedded' })]);
    // Traced for tess, by otto's doing: each exchange says so, as `pds-trace resume` marks them.
    const exchanges = await auditEvents(web.url, auditor, meta.id, 'smsp_exchange');
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.every((e) => e.user === 'tess' && /actor=otto/.test(e.detail ?? ''))).toBe(true);

    // As `pds-trace resume`: a finished batch has nothing to resume, and that is no error.
    const again = await post(web.url, tess, `/api/batches/${meta.id}/resume`);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: meta.id, state: 'assembled', resumed: false });
  }, 90_000);

  it('refuses to resume or retry a cancelled batch, saying to submit the file again', async () => {
    const { meta } = await interruptedBatch(web, 'tess', 'cancelled');
    expect((await post(web.url, tess, `/api/batches/${meta.id}/cancel`)).status).toBe(200);
    await ageBatch(dataDir, meta.id, 10 * 60_000);
    for (const [action, code] of [['resume', 'not_resumable'], ['retry', 'not_retryable']] as const) {
      const response = await post(web.url, tess, `/api/batches/${meta.id}/${action}`);
      expect(response.status).toBe(409);
      const body = (await response.json()) as { code: string; message: string };
      expect(body.code).toBe(code);
      expect(body.message).toMatch(/was cancelled by tess .*submit the file again/);
    }
    // A form gets the error page, not JSON.
    const form = await post(web.url, tess, `/api/batches/${meta.id}/resume`, true);
    expect(form.status).toBe(409);
    expect(form.headers.get('content-type')).toMatch(/text\/html/);
    expect((await loadBatch(dataDir, meta.id)).state).toBe('cancelled');
  });

  it('with REDIS_URL, retries here under the shared limit, for an operator too', async () => {
    await web.close();
    redis = connectTestRedis();
    web = await startUploadServer({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix }, { dir, dataDir, simulator: healthy });
    const batch = batches[1]!;
    const otto = await signIn(web.url, 'otto');
    const sentBefore = healthy.metrics().requestsTotal;
    const started = await post(web.url, otto, `/api/batches/${batch.id}/retry`, true);
    expect(started.status).toBe(303);
    const after = await retryEnded(web.url, otto, batch.id);
    expect(after).toContain(`${batch.errors} rows sent again, 0 still an error`);
    expect(healthy.metrics().requestsTotal - sentBefore).toBe(batch.errors);
    expect(readCsv((await loadBatch(dataDir, batch.id)).outputs!.results).filter((r) => r.trace_status === 'error')).toEqual([]);
    expectResultsMatchGroundTruth((await loadBatch(dataDir, batch.id)).outputs!.results, batch.expectedPath);
    const auditor = await signIn(web.url, 'aud');
    expect(await auditEvents(web.url, auditor, batch.id, 'batch_retried')).toEqual([expect.objectContaining({ user: 'otto', outcome: 'started' })]);
    // The exchanges sent again are tess's batch's, marked as otto's doing.
    const exchanges = await auditEvents(web.url, auditor, batch.id, 'smsp_exchange');
    expect(exchanges.filter((e) => /actor=otto/.test(e.detail ?? ''))).toHaveLength(batch.errors);
  }, 90_000);
});
