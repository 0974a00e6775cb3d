import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBatch } from '../../src/pipeline/batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { provisionServiceAccount } from '../support/accounts.js';
import { expectResultsMatchGroundTruth } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv } from '../support/simulator.js';
import { startWorkerProcess, type CliProcess } from '../support/worker-process.js';
import { apiUpload, POPULATION, signIn, startUploadServer, uploadsLeft, uploadForm, waitForBatch, type UploadServer } from './upload-support.js';

/**
 * With REDIS_URL, `serve` submits uploads to the BullMQ queues and traces nothing itself: a
 * `pds-trace worker` process, its own process on the same Redis and data folder, traces them.
 */
describe('uploads with REDIS_URL go to the BullMQ workers', () => {
  let web: UploadServer;
  let worker: CliProcess | undefined;
  let redis: Redis;
  const prefix = uniquePrefix('web-upload');

  beforeAll(async () => {
    redis = connectTestRedis();
    web = await startUploadServer({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix });
  }, 120_000);
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await web?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
  });

  it('queues the batch (202) and a worker process traces it to results matching the ground truth', async () => {
    const tess = await signIn(web.url, 'tess');
    const cohort = await writeCohort({ ...POPULATION, rows: 50, outDir: path.join(web.dir, 'cohorts'), name: 'queued-cohort' });
    const response = await apiUpload(web.url, tess, uploadForm(readFileSync(cohort.csvPath), 'queued-cohort.csv'));
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    // Queued, and nobody traces it until a worker comes.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await loadBatch(web.dataDir, id)).state).toBe('created');
    expect(await redis.exists(`${prefix}:ingest:ingest-${id}`)).toBe(1);

    worker = await startWorkerProcess({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, ...smspClientEnv(web.simulator, web.dataDir), ...(await provisionServiceAccount(web.dataDir)) });
    const done = await waitForBatch(web.url, tess, id);
    expect(done).toMatchObject({ state: 'assembled', rows: 50, done: 50 });
    const meta = await loadBatch(web.dataDir, id);
    expect(meta.options).toMatchObject({ user: 'tess', wayIn: 'web', priority: 'interactive' });
    expectResultsMatchGroundTruth(meta.outputs!.results, cohort.expectedPath);
    expect(await uploadsLeft(web.dataDir)).toEqual([]);
  }, 180_000);
});
