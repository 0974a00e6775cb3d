import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import { auditDir } from '../../src/audit/store.js';
import { batchPaths, createBatch, loadBatch } from '../../src/pipeline/batch.js';
import { readAllJsonLines } from '../../src/pipeline/jsonl.js';
import { jobIds, openQueues, submitBatch, type PipelineQueues } from '../../src/pipeline/queues.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { BatchWatcher } from '../../src/pipeline/watch-batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { batchOptions, tempDir } from '../support/pipeline.js';
import { runCli, startWorkerProcess, type CliProcess } from '../support/worker-process.js';
import { provisionServiceAccount } from '../support/accounts.js';

const POPULATION = { seed: 'cancel-queue', size: 5_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pds-trace cancel, on real Redis with a worker mid-chunk', () => {
  let simulator: TestSimulator;
  let redis: Redis;
  let prefix: string;
  let queues: PipelineQueues;
  let dir: string;
  let worker: CliProcess | undefined;

  beforeAll(async () => {
    dir = await tempDir('cancel-queue');
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 40, certDir: `${dir}/certs` });
    redis = connectTestRedis();
    prefix = uniquePrefix('cancel-queue');
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

  it('stops the batch: nothing half-written, no outputs, its jobs gone, audited, and resume refused', async () => {
    const dataDir = `${dir}/data`;
    const account = await provisionServiceAccount(dataDir);
    const env: Record<string, string> = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      ...smspClientEnv(simulator, dataDir),
      SMSP_MAX_IN_FLIGHT: '2',
      SMSP_MAX_RATE: '1000',
      ...account,
    };
    worker = await startWorkerProcess(env, 2);
    const cohort = await writeCohort({ ...POPULATION, rows: 600, outDir: dir, name: 'to-cancel' });
    const batch = await createBatch(dataDir, cohort.csvPath, batchOptions(`${dir}/out`, { chunkSize: 100 }), smspProvider(simulator.url));
    await submitBatch(queues, batch);

    // Mid-chunk: some rows traced, the first chunks not yet finished.
    const watcher = new BatchWatcher(dataDir, batch.id, queues.live);
    for (let seen = await watcher.poll(); seen.state !== 'ingested' || watcher.progress.done - seen.rejectedRows! < 30; seen = await watcher.poll()) await sleep(50);
    const cancel = runCli(['cancel', batch.id], env);
    expect(await cancel.exited, cancel.output()).toBe(0);
    expect(cancel.output()).toMatch(new RegExp(`batch ${batch.id} cancelled: \\d+ of 600 rows were traced and are kept; \\d+ queued job\\(s\\) removed`));

    // The worker stops at its next row: no trace job of the batch is left running or waiting.
    const meta = await loadBatch(dataDir, batch.id);
    const traceJobs = () => Promise.all((meta.chunks ?? []).map((c) => queues.trace.getJob(jobIds.trace(batch.id, c.index))));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const states = await Promise.all((await traceJobs()).map((job) => job?.getState() ?? 'gone'));
      if (states.every((s) => s === 'gone' || s === 'completed')) break;
      if (Date.now() > deadline) throw new Error(`trace jobs still ${states.join(', ')}`);
      await sleep(200);
    }
    const finished = (await traceJobs()).filter((job) => job !== undefined);
    // Only jobs that were running when it was cancelled are left, finished: queued ones were removed.
    expect(finished.length).toBeLessThanOrEqual(2);
    for (const job of finished) expect(['cancelled', 'traced']).toContain((job!.returnvalue as { outcome: string }).outcome);
    expect(await queues.assemble.getJob(jobIds.assemble(batch.id))).toBeUndefined();

    // Recorded: batch.json says cancelled, by whom, from which state.
    expect(meta).toMatchObject({ state: 'cancelled', cancelled: { by: account.PDS_TRACE_SERVICE_ACCOUNT, from: 'ingested' } });
    // Nothing half-written: every results file is a whole chunk, and no .part files.
    const paths = batchPaths(dataDir, batch.id);
    // Beside the chunk results only each attempt's exchange journal (for the batch's audit CSV).
    const all = await readdir(paths.resultsDir);
    expect(all.filter((f) => !/^\d{5}\.(jsonl|exchanges-[0-9a-f]+\.jsonl)$/.test(f))).toEqual([]);
    const files = all.filter((f) => /^\d{5}\.jsonl$/.test(f));
    expect(files.length).toBeLessThan(meta.chunks!.length);
    for (const file of files) {
      const chunk = meta.chunks!.find((c) => c.index === Number(file.slice(0, 5)))!;
      expect(await readAllJsonLines(`${paths.resultsDir}/${file}`)).toHaveLength(chunk.rows);
    }
    // And it stays so: nothing more is traced.
    await sleep(1500);
    expect((await readdir(paths.resultsDir)).filter((f) => /^\d{5}\.jsonl$/.test(f))).toEqual(files);
    // No outputs.
    expect(await readdir(`${dir}/out`).catch(() => [] as string[])).toEqual([]);

    const audit = await openFileAuditStore(auditDir(dataDir));
    try {
      const events = await audit.search({ batchId: batch.id, kind: 'batch_cancelled' });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ user: account.PDS_TRACE_SERVICE_ACCOUNT, outcome: 'cancelled', detail: expect.stringMatching(/^from=ingested rows_done=\d+$/) });
    } finally {
      await audit.close();
    }

    const status = runCli(['status', batch.id, '--json'], env);
    expect(await status.exited, status.output()).toBe(0);
    const report = JSON.parse(status.output().split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
    expect(report).toMatchObject({ state: 'cancelled', outputs: [], cancelled: { by: account.PDS_TRACE_SERVICE_ACCOUNT, from: 'ingested' } });
    expect(report).not.toHaveProperty('remaining');

    const resume = runCli(['resume', batch.id], env);
    expect(await resume.exited, resume.output()).toBe(2);
    expect(resume.output()).toMatch(new RegExp(`batch ${batch.id} was cancelled by ${account.PDS_TRACE_SERVICE_ACCOUNT} at .*: it cannot be resumed; submit the file again`));
    expect(resume.output()).not.toMatch(/\n\s+at /);
  }, 180_000);
});
