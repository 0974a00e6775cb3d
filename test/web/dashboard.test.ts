import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceThroughQueues, type QueuedBatch } from '../metrics/queued-batch.js';
import { readCsv } from '../support/pipeline.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { apiSignIn, dataFolderWithPeople, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

const BOARD = '/admin/dashboard';
const QUEUES = ['ingest', 'trace', 'assemble', 'schedule'];
/** Put into a job by hand, as nothing of ours would: the board must still not show it. */
const SMUGGLED = { batchId: 'b-smuggled', familyName: 'Zyxwvutson', nhsNumber: '9434765919', dateOfBirth: '19610213' };

describe('the queue dashboard of serve, on real Redis', () => {
  let batch: QueuedBatch;
  let web: WebFixture;
  const sessions = new Map<string, ApiSession>();

  beforeAll(async () => {
    batch = await traceThroughQueues({ name: 'dashboard', rows: 20, wayIn: 'cli' });
    await batch.queues.ingest.add('ingest', SMUGGLED as never, { jobId: 'smuggled', delay: 3_600_000 });
    const { dataDir } = await dataFolderWithPeople();
    web = await webApp(webConfig(dataDir, { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: batch.prefix, PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    // An operator holds dashboard.view and queue.operate; an admin dashboard.view alone.
    for (const id of ['ada', 'otto', 'tess', 'aud']) sessions.set(id, await apiSignIn(web.app, id));
  }, 180_000);
  afterAll(async () => {
    await web?.close();
    await batch?.close();
  });

  const as = (id: string, method: 'GET' | 'PUT' | 'POST', url: string, headers: Record<string, string> = {}) =>
    web.app.inject({ method, url, headers: { cookie: sessions.get(id)!.cookie, ...headers } });

  /** The page as a browser opens it, and the CSRF token it hands to bull-board's requests. */
  async function openBoard(id: string): Promise<{ page: LightMyRequestResponse; headers: Record<string, string> }> {
    const page = await as(id, 'GET', `${BOARD}/`);
    const xsrf = page.cookies.find((c) => c.name === 'XSRF-TOKEN')?.value ?? '';
    return { page, headers: { cookie: `${sessions.get(id)!.cookie}; XSRF-TOKEN=${xsrf}`, 'x-xsrf-token': xsrf } };
  }

  it('sends anyone not signed in to sign in, for the page, its API, its files and its actions', async () => {
    for (const [method, url] of [['GET', `${BOARD}/`], ['GET', BOARD], ['GET', `${BOARD}/api/queues`], ['GET', `${BOARD}/queue/trace`], ['PUT', `${BOARD}/api/queues/trace/pause`]] as const) {
      const response = await web.app.inject({ method, url });
      expect([response.statusCode, response.headers.location], `${method} ${url}`).toEqual([303, '/sign-in']);
    }
    expect(await batch.queues.trace.isPaused()).toBe(false);
  });

  it('refuses a role without dashboard.view (a tracer; an auditor) with 403', async () => {
    for (const id of ['tess', 'aud']) {
      expect((await as(id, 'GET', `${BOARD}/`)).statusCode, id).toBe(403);
      expect((await as(id, 'GET', `${BOARD}/api/queues`)).statusCode, id).toBe(403);
    }
  });

  it('shows the board to an admin, read-only: every queue flagged so, and an action refused and audited', async () => {
    const { page, headers } = await openBoard('ada');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`<base href="${BOARD}/"`);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(csp).toContain("style-src 'self' 'unsafe-inline';");
    expect(csp).not.toContain('googleapis');

    const listing = await web.app.inject({ method: 'GET', url: `${BOARD}/api/queues?activeQueue=trace&status=latest&page=1&jobsPerPage=50`, headers });
    expect(listing.statusCode).toBe(200);
    const queues = (listing.json() as { queues: Array<{ name: string; readOnlyMode: boolean; allowRetries: boolean }> }).queues;
    expect(queues.map((q) => q.name).sort()).toEqual([...QUEUES].sort());
    expect(queues.every((q) => q.readOnlyMode && !q.allowRetries)).toBe(true);

    const pause = await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/trace/pause`, headers });
    expect(pause.statusCode).toBe(403);
    expect(await batch.queues.trace.isPaused()).toBe(false);
    const refusals = await web.audit.search({ kind: 'access_denied', user: 'ada' });
    expect(refusals.map((e) => e.detail)).toContain(`page=${BOARD} PUT ${BOARD}/api/queues/:queueName/pause`);
  });

  it('lets a role with queue.operate pause and resume a queue, with the CSRF token, and nothing outside the listed actions', async () => {
    const { headers } = await openBoard('otto');
    const listing = await web.app.inject({ method: 'GET', url: `${BOARD}/api/queues?activeQueue=trace&status=latest&page=1&jobsPerPage=50`, headers });
    expect((listing.json() as { queues: Array<{ readOnlyMode: boolean }> }).queues.every((q) => !q.readOnlyMode)).toBe(true);

    const forged = await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/trace/pause`, headers: { cookie: sessions.get('otto')!.cookie } });
    expect(forged.statusCode).toBe(403);
    expect(await batch.queues.trace.isPaused()).toBe(false);

    expect((await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/trace/pause`, headers })).statusCode).toBe(200);
    expect(await batch.queues.trace.isPaused()).toBe(true);
    expect((await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/trace/resume`, headers })).statusCode).toBe(200);
    expect(await batch.queues.trace.isPaused()).toBe(false);

    // Adding a job, or obliterating a queue, is no operator's business from here.
    const before = await batch.queues.ingest.getJobCounts();
    const add = await web.app.inject({ method: 'POST', url: `${BOARD}/api/queues/ingest/add`, headers: { ...headers, 'content-type': 'application/json' }, payload: { name: 'ingest', data: { batchId: 'x' } } });
    expect(add.statusCode).toBe(403);
    expect((await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/assemble/obliterate`, headers })).statusCode).toBe(403);
    expect(await batch.queues.ingest.getJobCounts()).toEqual(before);
    expect(await batch.queues.assemble.getJobCountByTypes('completed')).toBe(1);
  });

  it('shows jobs by their ids only: no input value in any queue listing or job, even one put into job data', async () => {
    const { headers } = await openBoard('ada');
    const bodies: string[] = [];
    for (const queue of QUEUES) {
      for (const status of ['latest', 'completed', 'delayed', 'failed']) {
        const response = await web.app.inject({ method: 'GET', url: `${BOARD}/api/queues?activeQueue=${queue}&status=${status}&page=1&jobsPerPage=100`, headers });
        expect(response.statusCode, `${queue} ${status}`).toBe(200);
        bodies.push(response.body);
      }
    }
    const job = await web.app.inject({ method: 'GET', url: `${BOARD}/api/queues/ingest/smuggled`, headers });
    expect(job.statusCode).toBe(200);
    expect((job.json() as { job: { data: unknown } }).job.data).toEqual({ batchId: 'b-smuggled' });
    bodies.push(job.body);
    const text = bodies.join('\n');
    // The batch's jobs are there, by id.
    expect(text).toContain(`trace-${batch.meta.id}-00000`);
    expect(text).toContain('"byStatus"');

    const values = new Set(readCsv(batch.cohortCsv).flatMap((row) => Object.values(row)).filter((v) => v.trim().length >= 3));
    const tokens = new Set(text.split(/[^A-Za-z0-9]+/));
    const found = [...values].filter((v) => (/^[A-Za-z0-9]+$/.test(v) ? tokens.has(v) : text.includes(v)));
    expect(found).toEqual([]);
    for (const value of [SMUGGLED.familyName, SMUGGLED.nhsNumber, SMUGGLED.dateOfBirth]) expect(text).not.toContain(value);
  });
});

describe('the queue dashboard without Redis', () => {
  it('says it needs the queues (REDIS_URL), to an admin', async () => {
    const { dataDir } = await dataFolderWithPeople();
    const web = await webApp(webConfig(dataDir));
    try {
      const session = await apiSignIn(web.app, 'ada');
      const page = await web.app.inject({ method: 'GET', url: BOARD, headers: { cookie: session.cookie } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('REDIS_URL is not set');
    } finally {
      await web.close();
    }
  });
});

describe('every bull-board route', () => {
  it('is named by the dashboard\'s page rule, and only reads pass for a role that may not operate', async () => {
    const { appRoutes } = (await import('@bull-board/api/dist/routes.js')) as { appRoutes: { entryPoint: { route: string[] }; api: Array<{ method: string; route: string }> } };
    const { routeRule } = await import('../../src/web/route-rules.js');
    const { dashboardDecision } = await import('../../src/web/dashboard-access.js');
    const routes = [...appRoutes.entryPoint.route.map((route) => ({ method: 'get', route })), ...appRoutes.api, { method: 'get', route: '/static/*' }];
    expect(routes.length).toBeGreaterThan(30);
    const changing: string[] = [];
    for (const { method, route } of routes) {
      const verb = method.toUpperCase();
      expect(routeRule(verb, `${BOARD}${route}`), `${verb} ${route}`).toEqual({ open: false, surface: 'page', name: BOARD });
      if (verb === 'GET') continue;
      changing.push(`${verb} ${route}`);
      expect(dashboardDecision(verb, `${BOARD}${route}`, false).allowed, `${verb} ${route}`).toBe(false);
    }
    // What an operator may do from the board; everything else that changes a queue is refused to all.
    const allowed = changing.filter((action) => dashboardDecision(action.split(' ')[0]!, `${BOARD}${action.split(' ')[1]}`, true).allowed);
    expect(allowed.sort()).toEqual(
      [
        'PUT /api/queues/pause',
        'PUT /api/queues/resume',
        'PUT /api/queues/:queueName/pause',
        'PUT /api/queues/:queueName/resume',
        'PUT /api/queues/:queueName/retry/:queueStatus',
        'PUT /api/queues/:queueName/promote',
        'PUT /api/queues/:queueName/clean/:queueStatus',
        'PUT /api/queues/:queueName/:jobId/retry',
        'PUT /api/queues/:queueName/:jobId/promote',
        'PUT /api/queues/:queueName/:jobId/clean',
        'PUT /api/queues/:queueName/job-schedulers/:schedulerId/run',
      ].sort(),
    );
    expect(changing.length).toBeGreaterThan(allowed.length + 8);
  });
});
