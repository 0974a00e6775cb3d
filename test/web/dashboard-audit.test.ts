import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScheduleQueue } from '../../src/intake/schedules/schedule-queue.js';
import { openQueues, type PipelineQueues } from '../../src/pipeline/queues.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { failedJobs } from './queue-jobs.js';
import { apiSignIn, dataFolderWithPeople, webApp, webConfig, type ApiSession, type WebFixture } from './web-support.js';

/**
 * What an operator changes on the queue dashboard (bull-board) is in the audit trail: each action
 * bull-board carried out, as `queue_operated` with the action, queue and job (ids only), and
 * nothing for an action that changed nothing or was refused (a refusal is `access_denied`).
 */

const BOARD = '/admin/dashboard';

describe('operator actions on the queue dashboard are audited', () => {
  const prefix = uniquePrefix('web-board-audit');
  let redis: Redis;
  let pipeline: PipelineQueues;
  let schedule: Queue;
  let web: WebFixture;
  const sessions = new Map<string, ApiSession>();

  beforeAll(async () => {
    redis = connectTestRedis();
    pipeline = openQueues(redis, prefix);
    schedule = openScheduleQueue(redis, prefix);
    await failedJobs(pipeline.ingest, ['a', 'b', 'c'].map((c) => ({ jobId: `ingest-${c}`, data: { batchId: `b-${c}` } })));
    const { dataDir } = await dataFolderWithPeople();
    web = await webApp(webConfig(dataDir, { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    for (const id of ['ada', 'otto']) sessions.set(id, await apiSignIn(web.app, id));
  }, 60_000);
  afterAll(async () => {
    await web?.close();
    await pipeline?.close();
    await schedule?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
  });

  /** The headers bull-board's page sends: the session and the CSRF token the board handed it. */
  async function boardHeaders(id: string): Promise<Record<string, string>> {
    const page = await web.app.inject({ method: 'GET', url: `${BOARD}/`, headers: { cookie: sessions.get(id)!.cookie } });
    const xsrf = page.cookies.find((c) => c.name === 'XSRF-TOKEN')?.value ?? '';
    return { cookie: `${sessions.get(id)!.cookie}; XSRF-TOKEN=${xsrf}`, 'x-xsrf-token': xsrf };
  }

  const operated = () => web.audit.search({ kind: 'queue_operated' });

  it('records an operator\'s retry of a failed job once it is done: who, the action, the queue and the job', async () => {
    const headers = await boardHeaders('otto');
    const retry = await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/ingest/ingest-a/retry`, headers });
    expect(retry.statusCode).toBe(204);
    expect(await (await pipeline.ingest.getJob('ingest-a'))!.getState()).toBe('waiting');
    const events = await operated();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'queue_operated', user: 'otto', role: 'operator', outcome: 'retry', detail: 'surface=web action=retry queue=ingest job=ingest-a' });

    // Retrying it again changes nothing (it waits now): bull-board says so, and nothing is recorded.
    const again = await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/ingest/ingest-a/retry`, headers });
    expect(again.statusCode).toBe(400);
    expect(await operated()).toHaveLength(1);
  });

  it('records pausing and resuming a queue, and a retry of every failed job', async () => {
    const headers = await boardHeaders('otto');
    const before = (await operated()).length;
    expect((await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/trace/pause`, headers })).statusCode).toBe(200);
    expect(await pipeline.trace.isPaused()).toBe(true);
    expect((await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/trace/resume`, headers })).statusCode).toBe(200);
    expect((await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/ingest/retry/failed`, headers })).statusCode).toBe(200);
    expect(await pipeline.ingest.getJobCountByTypes('failed')).toBe(0);
    const details = (await operated()).slice(before).map((e) => [e.user, e.outcome, e.detail]);
    expect(details).toEqual([
      ['otto', 'pause', 'surface=web action=pause queue=trace'],
      ['otto', 'resume', 'surface=web action=resume queue=trace'],
      ['otto', 'retry', 'surface=web action=retry queue=ingest jobs=failed'],
    ]);
  });

  it('records no action for a refused request: an admin\'s (access_denied instead) or one without the CSRF token', async () => {
    await failedJobs(pipeline.ingest, [{ jobId: 'ingest-d', data: { batchId: 'b-d' } }]);
    const before = (await operated()).length;
    const refused = await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/ingest/ingest-d/retry`, headers: await boardHeaders('ada') });
    expect(refused.statusCode).toBe(403);
    const forged = await web.app.inject({ method: 'PUT', url: `${BOARD}/api/queues/ingest/ingest-d/retry`, headers: { cookie: sessions.get('otto')!.cookie } });
    expect(forged.statusCode).toBe(403);
    expect(await (await pipeline.ingest.getJob('ingest-d'))!.getState()).toBe('failed');
    expect(await operated()).toHaveLength(before);
    const denied = await web.audit.search({ kind: 'access_denied', user: 'ada' });
    expect(denied.map((e) => e.detail)).toContain(`page=${BOARD} PUT ${BOARD}/api/queues/:queueName/:jobId/retry`);
  });
});
