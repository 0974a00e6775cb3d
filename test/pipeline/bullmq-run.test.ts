import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { appendFile, readdir } from 'node:fs/promises';
import { batchPaths, createBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { jobIds, openQueues, submitBatch, type PipelineQueues } from '../../src/pipeline/queues.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { BatchWatcher } from '../../src/pipeline/watch-batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { batchOptions, expectResultsMatchGroundTruth, tempDir } from '../support/pipeline.js';
import { startWorkerProcess, type CliProcess } from '../support/worker-process.js';
import { provisionServiceAccount } from '../support/accounts.js';

const POPULATION = { seed: 'bullmq-e2e', size: 20_000 };
// A wider rate margin than the default: on a loaded 2-core CI machine arrivals jitter by 100 ms and more.
const LIMITS = { SMSP_MAX_IN_FLIGHT: '10', SMSP_MAX_RATE: '400', SMSP_RATE_SLACK_MS: '150' };

describe('BullMQ runner: several worker processes on real Redis against the simulator', () => {
  let simulator: TestSimulator;
  let redis: Redis;
  let prefix: string;
  let queues: PipelineQueues;
  let dir: string;
  let env: Record<string, string>;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    dir = await tempDir('bullmq');
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 4, jitterMs: 3, certDir: `${dir}/certs` });
    redis = connectTestRedis();
    prefix = uniquePrefix('bullmq');
    queues = openQueues(redis, prefix);
    env = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      ...smspClientEnv(simulator, `${dir}/data`),
      SMSP_RETRY_BASE_MS: '20',
      JOB_LOCK_MS: '4000',
      JOB_STALLED_INTERVAL_MS: '1000',
      ...LIMITS,
      // A configured SMSP means governance is on: workers sign in as a service account.
      ...(await provisionServiceAccount(`${dir}/data`)),
    };
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
  });
  afterAll(async () => {
    await queues?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
    await simulator?.close();
  });

  async function submit(name: string, rows: number): Promise<{ batch: BatchMeta; expectedPath: string }> {
    const cohort = await writeCohort({ ...POPULATION, rows, outDir: dir, name });
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 100 }), smspProvider(simulator.url));
    await submitBatch(queues, batch);
    return { batch, expectedPath: cohort.expectedPath };
  }

  it('three workers trace a cohort to the ground truth, in input order, within the global limits', async () => {
    simulator.resetMetrics();
    workers.push(...(await Promise.all([1, 2, 3].map(() => startWorkerProcess(env)))));
    const { batch, expectedPath } = await submit('three-workers', 3000);
    const meta = await new BatchWatcher(`${dir}/data`, batch.id).waitUntilFinished();
    expect(meta.state).toBe('assembled');
    expectResultsMatchGroundTruth(meta.outputs!.results, expectedPath);
    const metrics = simulator.metrics();
    expect(metrics.maxInFlight).toBeLessThanOrEqual(Number(LIMITS.SMSP_MAX_IN_FLIGHT));
    expect(metrics.maxStartedPerSecond).toBeLessThanOrEqual(Number(LIMITS.SMSP_MAX_RATE));
  }, 120_000);

  it('loses and duplicates no row when workers are SIGKILLed mid-batch at several points', async () => {
    workers.push(await startWorkerProcess(env), await startWorkerProcess(env));
    const { batch, expectedPath } = await submit('killed-workers', 3000);
    const watcher = new BatchWatcher(`${dir}/data`, batch.id);
    for (const fraction of [0.2, 0.5]) {
      while ((await watcher.poll()) && watcher.progress.done < fraction * 3000) await new Promise((r) => setTimeout(r, 50));
      const victim = workers.shift()!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      workers.push(await startWorkerProcess(env));
    }
    const meta = await watcher.waitUntilFinished();
    expect(meta.state).toBe('assembled');
    expectResultsMatchGroundTruth(meta.outputs!.results, expectedPath);
  }, 180_000);

  it('stops a batch whose input copy changed mid-run: rejected, no outputs, the assembly failed once and not retried', async () => {
    workers.push(await startWorkerProcess(env));
    const { batch } = await submit('changed-mid-run', 1000);
    const watcher = new BatchWatcher(`${dir}/data`, batch.id);
    while ((await watcher.poll()) && watcher.progress.done === 0) await new Promise((r) => setTimeout(r, 50));
    await appendFile(batchPaths(`${dir}/data`, batch.id).input, 'L9999999,,Extra,Row,1990-01-01,1,,,\n');
    const meta = await watcher.waitUntilFinished();
    expect(meta).toMatchObject({ state: 'rejected', rejection: { reason: 'input_changed', message: expect.stringContaining('submit the file again') } });
    expect((await readdir(`${dir}/out`).catch(() => [] as string[])).filter((f) => f.startsWith('changed-mid-run'))).toEqual([]);
    const job = await queues.assemble.getJob(jobIds.assemble(batch.id));
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
  }, 120_000);
});
