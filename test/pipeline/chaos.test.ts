import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { openQueues, submitBatch } from '../../src/pipeline/queues.js';
import { BatchWatcher } from '../../src/pipeline/watch-batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { batchOptions, readCsv, tempDir, expectResultsMatchGroundTruth } from '../support/pipeline.js';
import { PrivateRedis } from '../support/private-redis.js';
import { runCli, startWorkerProcess, type CliProcess } from '../support/worker-process.js';
import { provisionServiceAccount } from '../support/accounts.js';

const POPULATION = { seed: 'chaos', size: 20_000 };
const MAX_IN_FLIGHT = 8;
const MAX_RATE = 300;
const TECHNICAL = new Set(['provider_busy', 'itk_processing_error_retryable', 'itk_processing_error', 'connection_reset', 'timeout', 'network_error']);

describe('chaos: faults, killed Redis, every row accounted for', () => {
  let simulator: TestSimulator;
  let redis: PrivateRedis;
  let dir: string;
  let account: Record<string, string>;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    dir = await tempDir('chaos');
    redis = await PrivateRedis.start();
    account = await provisionServiceAccount(`${dir}/data`);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
    await simulator?.close();
  });
  afterAll(async () => {
    await redis?.kill();
  });

  function env(): Record<string, string> {
    return {
      REDIS_URL: redis.url,
      ...smspClientEnv(simulator, `${dir}/data`),
      SMSP_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      SMSP_MAX_RATE: String(MAX_RATE),
      SMSP_RATE_SLACK_MS: '150', // see bullmq-run.test.ts
      SMSP_TIMEOUT_MS: '1500',
      SMSP_RETRY_BASE_MS: '20',
      JOB_LOCK_MS: '4000',
      JOB_STALLED_INTERVAL_MS: '1000',
      ...account,
    };
  }

  async function submit(name: string, rows: number): Promise<{ batch: BatchMeta; expectedPath: string }> {
    const cohort = await writeCohort({ ...POPULATION, rows, outDir: dir, name });
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 100 }), smspProvider(simulator.url));
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queues = openQueues(connection, 'pds-trace');
    await submitBatch(queues, batch);
    await queues.close();
    connection.disconnect();
    return { batch, expectedPath: cohort.expectedPath };
  }

  it('with 15% of answers faulty, no row is lost or duplicated, none reported as no_match, limits held', async () => {
    simulator = await startTestSimulator({
      ...POPULATION,
      latencyMs: 3,
      certDir: `${dir}/certs-faults`,
      faults: 'busy=0.02,fault2100=0.06,reset=0.04,fault2200=0.02,smsp9999=0.01',
      faultSeed: 'chaos',
    });
    workers.push(await startWorkerProcess(env()), await startWorkerProcess(env()));
    const { batch, expectedPath } = await submit('faults', 2000);
    const meta = await new BatchWatcher(`${dir}/data`, batch.id).waitUntilFinished();
    const results = readCsv(meta.outputs!.results);
    const expected = readCsv(expectedPath);
    expect(results.map((r) => r.local_id)).toEqual(expected.map((e) => e.local_id));
    let errors = 0;
    results.forEach((row, i) => {
      const want = expected[i]!;
      if (row.trace_status === 'error') {
        errors++;
        expect(TECHNICAL.has(row.trace_reason!) || row.trace_reason === 'smsp_failure', row.trace_reason).toBe(true);
      } else {
        expect(row.trace_status, `row ${i + 1}`).toBe(want.expected_status);
      }
    });
    // 2200 faults are not retried: some rows must end as error, but far from all.
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(200);
    const metrics = simulator.metrics();
    expect(metrics.maxInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(metrics.maxStartedPerSecond).toBeLessThanOrEqual(MAX_RATE);
  }, 180_000);

  it('finishes after Redis restarts empty mid-batch once the batch is resumed from its folder', async () => {
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 5, certDir: `${dir}/certs-redis` });
    workers.push(await startWorkerProcess(env()), await startWorkerProcess(env()));
    const { batch, expectedPath } = await submit('redis-restart', 2500);
    const watcher = new BatchWatcher(`${dir}/data`, batch.id);
    while ((await watcher.poll()) && watcher.progress.done < 800) await new Promise((r) => setTimeout(r, 50));
    await redis.kill();
    await new Promise((r) => setTimeout(r, 500));
    await redis.restart(); // empty: every queued job is gone
    const resume = runCli(['resume', batch.id], env());
    expect(await resume.exited, resume.output()).toBe(0);
    expect(resume.output()).toMatch(/trace job\(s\)|assembly/);
    const meta = await watcher.waitUntilFinished();
    expect(meta.state).toBe('assembled');
    expectResultsMatchGroundTruth(meta.outputs!.results, expectedPath);
  }, 180_000);
});
