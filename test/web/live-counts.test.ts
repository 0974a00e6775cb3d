import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatch } from '../../src/pipeline/batch.js';
import { ingestBatch } from '../../src/pipeline/ingest.js';
import { redisLiveProgress, type LiveProgressRedis } from '../../src/pipeline/live-progress.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { batchOptions } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { apiSignIn, dataFolderWithPeople, webApp, webConfig, type WebFixture } from './web-support.js';

/**
 * With REDIS_URL, the batch page counts the rows workers report while a chunk is still being traced
 * (live-progress.ts), as `pds-trace status --follow` does, not only whole chunks as they finish.
 */
describe('live row counts from workers through Redis', () => {
  let redis: Redis;
  let prefix: string;
  let web: WebFixture;

  beforeAll(async () => {
    redis = connectTestRedis();
    prefix = uniquePrefix('web-live');
  });
  afterAll(async () => {
    await web?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
  });

  it('adds the rows of a chunk being traced elsewhere to the batch the page shows', async () => {
    const { dir, dataDir } = await dataFolderWithPeople();
    const cohort = await writeCohort({ seed: 'web-live-counts', size: 500, rows: 30, outDir: dir });
    const created = await createBatch(dataDir, cohort.csvPath, batchOptions(path.join(dir, 'out'), { user: 'tess', chunkSize: 10 }), SIMULATOR_PROVIDER);
    // Rejected rows' events are not what this test is about: a sink that keeps none.
    const batch = await ingestBatch(dataDir, created, { append: async () => undefined });
    expect(batch.state).toBe('ingested');
    web = await webApp(webConfig(dataDir, { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, PDS_TRACE_WEB_SIGN_IN_PER_MINUTE: '1000' }));
    const tess = await apiSignIn(web.app, 'tess');
    const look = async () => (await web.app.inject({ method: 'GET', url: `/api/batches/${batch.id}`, headers: { cookie: tess.cookie } })).json() as { done: number; stage: string; byStatus: Record<string, number> };
    const rejected = (await look()).done;

    // A worker somewhere has traced 4 rows of chunk 0 and not yet written its results.
    const reporter = await redisLiveProgress(redis as unknown as LiveProgressRedis, prefix, 50).startChunk(batch.id, 0);
    for (const status of ['verified', 'verified', 'matched', 'no_match'] as const) reporter.record(status);
    await expect.poll(async () => (await look()).done, { timeout: 10_000 }).toBe(rejected + 4);
    const seen = await look();
    expect(seen.stage).toBe('tracing');
    expect(seen.byStatus.verified).toBeGreaterThanOrEqual(2);
    await reporter.end();
    await expect.poll(async () => (await look()).done, { timeout: 10_000 }).toBe(rejected);
  }, 60_000);
});
