import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import { BatchCancelledError } from '../../src/pipeline/cancel.js';
import { loadBatch } from '../../src/pipeline/batch.js';
import { expectResultsMatchGroundTruth } from '../support/pipeline.js';
import { readProgressEvents, startLiveTracer, type LiveTracer } from './live-trace.js';
import { apiSignIn, csrfTokenIn, dataFolderWithPeople, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/**
 * A batch's live progress as the batch page follows it: server-sent events from a real server,
 * while the batch is traced (submitted through the intake, embedded runner, simulator over mutual
 * TLS), and the early warning when a file's dates were written the other way round.
 */
describe('live batch progress and the early low-match warning', () => {
  let dir: string;
  let dataDir: string;
  let web: WebFixture;
  let base: string;
  let tracer: LiveTracer;
  let tess: ApiSession;

  beforeAll(async () => {
    ({ dir, dataDir } = await dataFolderWithPeople());
    web = await webApp(webConfig(dataDir, { PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000', PDS_TRACE_WEB_LOW_MATCH_ROWS: '20', PDS_TRACE_WEB_LOW_MATCH_PERCENT: '50' }));
    base = (await web.app.listen({ host: '127.0.0.1', port: 0 })).replace(/\/$/, '');
    tess = await apiSignIn(web.app, 'tess');
    tracer = await startLiveTracer(web.audit as AuditStore);
  }, 120_000);
  afterAll(async () => {
    await tracer?.close();
    await web?.close();
  });

  it('streams counts that rise while the batch is traced, through to done, without the page asking again', async () => {
    const rows = 200;
    const { batch, run, expectedPath } = await tracer.trace({ dataDir, outDir: path.join(dir, 'out'), user: 'tess', rows, name: 'cohort-live' });
    const { events, ended, headers } = await readProgressEvents(`${base}/api/batches/${batch.id}/events`, tess.cookie);
    await run.finished;
    expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(ended).toBe(true);
    const done = events.map((e) => e.done);
    // Never backwards, and seen part-way more than once: the counts rose while it ran.
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(new Set(done.filter((n) => n > 0 && n < rows)).size).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.stage === 'tracing')).toBe(true);
    for (const e of events) expect(Object.values(e.byStatus).reduce((a, b) => a + b, 0)).toBe(e.done);
    // A cohort read the right way round finds most people: no warning at any point.
    expect(events.every((e) => e.lowMatch === null)).toBe(true);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ state: 'assembled', stage: 'done', ended: true, done: rows, rows });
    expectResultsMatchGroundTruth((await loadBatch(dataDir, batch.id)).outputs!.results, expectedPath);
  }, 120_000);

  it('warns early when the first rows of a file with swapped dates find few people, and cancels from the page', async () => {
    const { batch, run } = await tracer.trace({ dataDir, outDir: path.join(dir, 'out'), user: 'tess', rows: 400, name: 'cohort-swapped', swapDates: true });
    const failed = run.finished.then(() => undefined, (err: unknown) => err);
    const { events } = await readProgressEvents(`${base}/api/batches/${batch.id}/events`, tess.cookie, (e) => e.lowMatch !== null || e.ended);
    const warned = events.at(-1)!;
    expect(warned.ended).toBe(false);
    expect(warned.lowMatch).toMatchObject({ threshold: 50 });
    expect(warned.lowMatch!.rows).toBeGreaterThanOrEqual(20);
    expect(warned.lowMatch!.percent).toBeLessThan(50);

    const page = await web.app.inject({ method: 'GET', url: `/batches/${batch.id}`, headers: { cookie: tess.cookie } });
    expect(page.body).toContain('Few people found so far');
    expect(page.body).toMatch(/dates of birth read in the wrong order/);
    expect(page.body).toContain(`action="/api/batches/${batch.id}/cancel"`);
    // Another tracer cannot cancel it (nor see it).
    const tom = await apiSignIn(web.app, 'tom');
    expect((await web.app.inject({ method: 'POST', url: `/api/batches/${batch.id}/cancel`, headers: { cookie: tom.cookie, 'x-csrf-token': tom.csrfToken } })).statusCode).toBe(404);

    const cancel = await web.app.inject({
      method: 'POST',
      url: `/api/batches/${batch.id}/cancel`,
      headers: { cookie: tess.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(csrfTokenIn(page.body))}`,
    });
    expect([cancel.statusCode, cancel.headers.location]).toEqual([303, `/batches/${batch.id}`]);
    expect(await failed).toBeInstanceOf(BatchCancelledError);
    const after = await web.app.inject({ method: 'GET', url: `/api/batches/${batch.id}`, headers: { cookie: tess.cookie } });
    expect(after.json()).toMatchObject({ state: 'cancelled', stage: 'cancelled', ended: true, lowMatch: null });
    const cancelled = await web.audit.search({ kind: 'batch_cancelled', batchId: batch.id });
    expect(cancelled.map((e) => [e.user, e.outcome])).toEqual([['tess', 'cancelled']]);
    // Cancelled is final: a second cancel says so.
    const again = await web.app.inject({ method: 'POST', url: `/api/batches/${batch.id}/cancel`, headers: { cookie: tess.cookie, 'x-csrf-token': tess.csrfToken } });
    expect([again.statusCode, again.json().code]).toEqual([409, 'not_cancellable']);
  }, 120_000);
});
