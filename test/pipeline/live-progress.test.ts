import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createBatch } from '../../src/pipeline/batch.js';
import { openQueues, submitBatch, type PipelineQueues } from '../../src/pipeline/queues.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { BatchWatcher, hasEnded } from '../../src/pipeline/watch-batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { batchOptions, tempDir } from '../support/pipeline.js';
import { startWorkerProcess, type CliProcess } from '../support/worker-process.js';
import { provisionServiceAccount } from '../support/accounts.js';

const POPULATION = { seed: 'live-progress', size: 5_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every rows-done figure a follower could see if only whole chunks counted: rejected rows plus any set of chunks. */
function chunkBoundaries(rejected: number, chunkRows: readonly number[]): Set<number> {
  let sums = new Set([0]);
  for (const rows of chunkRows) sums = new Set([...sums, ...[...sums].map((s) => s + rows)]);
  return new Set([...sums].map((s) => s + rejected));
}

describe('progress per row in the BullMQ runner, on real Redis', () => {
  let simulator: TestSimulator;
  let redis: Redis;
  let prefix: string;
  let queues: PipelineQueues;
  let dir: string;
  let worker: CliProcess | undefined;

  beforeAll(async () => {
    dir = await tempDir('live-progress');
    // Slowed down: two answers in flight, 40 ms each, so a 100-row chunk takes a couple of seconds.
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 40, certDir: `${dir}/certs` });
    redis = connectTestRedis();
    prefix = uniquePrefix('live-progress');
    queues = openQueues(redis, prefix);
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await queues?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
    await simulator?.close();
  });

  it('shows rows done moving between chunk boundaries while chunks are traced, ending at the files’ counts', async () => {
    const dataDir = `${dir}/data`;
    worker = await startWorkerProcess(
      {
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        ...smspClientEnv(simulator, dataDir),
        SMSP_MAX_IN_FLIGHT: '2',
        SMSP_MAX_RATE: '1000',
        ...(await provisionServiceAccount(dataDir)),
      },
      1,
    );
    const cohort = await writeCohort({ ...POPULATION, rows: 400, outDir: dir, name: 'live' });
    const batch = await createBatch(dataDir, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 100 }), smspProvider(simulator.url));
    await submitBatch(queues, batch);

    const watcher = new BatchWatcher(dataDir, batch.id, queues.live);
    const seen: number[] = [];
    const liveFields = new Set<string>();
    let meta = await watcher.poll();
    while (!hasEnded(meta)) {
      await sleep(100);
      meta = await watcher.poll();
      if (meta.state === 'ingested') seen.push(watcher.progress.done);
      for (const [field, value] of Object.entries(await redis.hgetall(`${prefix}:live:${batch.id}`))) liveFields.add(`${field}=${value}`);
    }
    expect(meta.state).toBe('assembled');

    const boundaries = chunkBoundaries(meta.rejectedRows ?? 0, (meta.chunks ?? []).map((c) => c.rows));
    const between = seen.filter((done) => !boundaries.has(done));
    expect(between.length, `rows done seen: ${seen.join(' ')}`).toBeGreaterThan(3);
    // Never more than the batch, never backwards while no chunk was traced again.
    expect(Math.max(...seen)).toBeLessThanOrEqual(400);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(watcher.progress.done).toBe(400);
    // Ids and counts only in Redis; and nothing left behind once the chunks are done.
    expect(liveFields.size).toBeGreaterThan(0);
    for (const entry of liveFields) expect(entry).toMatch(/^\d+:[a-z_]+=\d+$/);
    expect(await redis.exists(`${prefix}:live:${batch.id}`)).toBe(0);
  }, 120_000);
});
