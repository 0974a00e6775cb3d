import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { SIMULATOR_PROVIDER, smspProvider, type Provider } from '../../src/pipeline/provider.js';
import { readProviderHold } from '../../src/pipeline/provider-hold.js';
import { doneChunks, jobIds, openQueues, submitBatch, type PipelineQueues } from '../../src/pipeline/queues.js';
import { BatchWatcher } from '../../src/pipeline/watch-batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { DEFAULT_POPULATION } from '../../src/simulator/defaults.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { batchOptions, expectResultsMatchGroundTruth, tempDir } from '../support/pipeline.js';
import { runCli, startWorkerProcess, type CliProcess } from '../support/worker-process.js';
import { provisionServiceAccount } from '../support/accounts.js';

/**
 * ARCHITECTURE property 9 on real Redis: a worker on provider B is handed a batch for provider A.
 * A is the built-in simulator (workers asked for it with PDS_TRACE_SIMULATOR=true, as a deployment
 * with users must); B is a real-looking SMSP over mutual TLS (a test simulator at its own URL),
 * whose request counter shows whether anything reached it.
 */
describe('a batch is traced only by workers on its provider', () => {
  let smsp: TestSimulator;
  let redis: Redis;
  let prefix: string;
  let queues: PipelineQueues;
  let dir: string;
  let common: Record<string, string>;
  let onSmsp: Record<string, string>;
  let onSimulator: Record<string, string>;
  const workers: CliProcess[] = [];
  const SMSP_POPULATION = { seed: 'provider-binding', size: 2000 };

  beforeAll(async () => {
    dir = await tempDir('provider-binding');
    smsp = await startTestSimulator({ ...SMSP_POPULATION, certDir: `${dir}/certs` });
    redis = connectTestRedis();
    prefix = uniquePrefix('provider');
    queues = openQueues(redis, prefix);
    common = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      PDS_TRACE_DATA_DIR: `${dir}/data`,
      SMSP_MAX_RATE: '400',
      JOB_LOCK_MS: '4000',
      JOB_STALLED_INTERVAL_MS: '1000',
      JOB_PROVIDER_HOLD_MS: '1000',
      ...(await provisionServiceAccount(`${dir}/data`)),
    };
    onSmsp = { ...common, ...smspClientEnv(smsp, `${dir}/data`) };
    onSimulator = { ...common, PDS_TRACE_SIMULATOR: 'true' };
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
    await smsp?.close();
  });

  async function submit(name: string, population: { seed: string; size: number }, provider: Provider): Promise<{ batch: BatchMeta; expectedPath: string }> {
    const cohort = await writeCohort({ ...population, rows: 300, outDir: dir, name });
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 100 }), provider);
    await submitBatch(queues, batch);
    return { batch, expectedPath: cohort.expectedPath };
  }

  it('a worker on a real SMSP refuses a simulator batch: nothing reaches it, the jobs wait with their attempts, `status` says why; a simulator worker then finishes it', async () => {
    smsp.resetMetrics();
    const wrong = await startWorkerProcess(onSmsp);
    workers.push(wrong);
    const { batch, expectedPath } = await submit('for-simulator', DEFAULT_POPULATION, SIMULATOR_PROVIDER);

    // The function `status` uses shows the hold once the wrong worker has met a trace job.
    const watcher = new BatchWatcher(`${dir}/data`, batch.id);
    const deadline = Date.now() + 30_000;
    while (!(await watcher.poll(), watcher.hold)) {
      if (Date.now() > deadline) throw new Error(`no hold recorded:\n${wrong.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(watcher.hold).toMatchObject({ batchProvider: SIMULATOR_PROVIDER, workerProvider: smspProvider(smsp.url) });
    expect(watcher.progress.notice).toMatch(/^WAITING: it is for built-in simulator and a worker on https:\/\/127\.0\.0\.1:\d+\/\S+ refused it; .*PDS_TRACE_SIMULATOR=true/);

    // Let it refuse again after a wait or two: still nothing traced, nothing failed, no attempt used.
    await new Promise((r) => setTimeout(r, 2500));
    expect(smsp.metrics().requestsTotal).toBe(0);
    expect(await doneChunks(`${dir}/data`, await watcher.poll())).toEqual(new Set());
    expect(await queues.trace.getFailedCount()).toBe(0);
    for (const chunk of [0, 1, 2]) {
      const job = (await queues.trace.getJob(jobIds.trace(batch.id, chunk)))!;
      expect(['delayed', 'wait', 'active']).toContain(await job.getState());
      expect(job.attemptsMade).toBe(0);
    }
    // One log line for the batch, not one per refusal.
    expect(wrong.output().match(/batch held: it is for another SMSP provider/g)).toHaveLength(1);

    const status = runCli(['status', batch.id], onSmsp);
    expect(await status.exited, status.output()).toBe(0);
    expect(status.output()).toMatch(/WAITING: it is for built-in simulator .* \(since \d{1,2} \w{3} \d{4} \d\d:\d\d \S+\)/);
    expect(status.output()).toMatch(/provider\s+SIMULATED: built-in simulator \(SYNTHETIC ANSWERS, NOT PDS DATA\)/);

    workers.push(await startWorkerProcess(onSimulator));
    const meta = await watcher.waitUntilFinished();
    expect(meta.state).toBe('assembled');
    expectResultsMatchGroundTruth(meta.outputs!.results, expectedPath);
    expect(smsp.metrics().requestsTotal).toBe(0);
    expect(await readProviderHold(`${dir}/data`, batch.id)).toBeUndefined();
    for (const file of Object.values(meta.outputs!)) expect(path.basename(file)).toMatch(/^for-simulator\.SIMULATED\./);
    expect(JSON.parse(await readFile(meta.outputs!.summaryJson, 'utf8'))).toMatchObject({ simulated: true, provider: 'built-in simulator' });
  }, 120_000);

  it('a simulator worker refuses a batch for a real SMSP, which the worker on that SMSP traces; its outputs never say SIMULATED', async () => {
    smsp.resetMetrics();
    workers.push(await startWorkerProcess(onSimulator));
    const { batch, expectedPath } = await submit('for-smsp', SMSP_POPULATION, smspProvider(smsp.url));
    const watcher = new BatchWatcher(`${dir}/data`, batch.id);
    while (!(await watcher.poll(), watcher.hold)) await new Promise((r) => setTimeout(r, 100));
    expect(watcher.hold!.workerProvider).toEqual(SIMULATOR_PROVIDER);
    expect(await doneChunks(`${dir}/data`, await watcher.poll())).toEqual(new Set());

    workers.push(await startWorkerProcess(onSmsp));
    const meta = await watcher.waitUntilFinished();
    expect(meta.state).toBe('assembled');
    expectResultsMatchGroundTruth(meta.outputs!.results, expectedPath);
    expect(smsp.metrics().requestsTotal).toBeGreaterThan(0);
    for (const file of Object.values(meta.outputs!)) expect(file).not.toMatch(/simulated/i);
    const summary = await readFile(meta.outputs!.summaryJson, 'utf8');
    expect(JSON.parse(summary)).toMatchObject({ simulated: false, provider: new URL(smsp.url).href });
    expect(summary).not.toContain('SIMULATED');
    expect(await readFile(meta.outputs!.summaryHtml, 'utf8')).not.toContain('SIMULATED');
  }, 120_000);

  it('`trace --no-worker` records the provider of its configuration, and its follow shows why the batch waits', async () => {
    workers.push(await startWorkerProcess(onSmsp));
    const cohort = await writeCohort({ ...DEFAULT_POPULATION, rows: 300, outDir: dir, name: 'followed' });
    const trace = runCli(['trace', cohort.csvPath, '--no-worker', '--out', `${dir}/out`, '--chunk-size', '100'], onSimulator);
    const deadline = Date.now() + 30_000;
    while (!trace.output().includes('WAITING:')) {
      if (Date.now() > deadline || trace.child.exitCode !== null) throw new Error(`no WAITING line:\n${trace.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(trace.output()).toMatch(/WAITING: it is for built-in simulator and a worker on https:\/\/127\.0\.0\.1:\d+\/smsp\/pds refused it/);
    workers.push(await startWorkerProcess(onSimulator));
    expect(await trace.exited, trace.output()).toBe(0);
    expect(trace.output()).toContain('(SIMULATOR, synthetic data)');
    expect(trace.output()).toMatch(/followed\.SIMULATED\.results\.csv/);
    expect(trace.output().match(/WAITING:/g)).toHaveLength(1);
  }, 120_000);
});
