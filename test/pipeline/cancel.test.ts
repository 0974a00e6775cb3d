import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import { batchPaths, createBatch, loadBatch, saveBatch } from '../../src/pipeline/batch.js';
import { BatchCancelledError, BatchNotCancellableError, cancelBatch } from '../../src/pipeline/cancel.js';
import { readAllJsonLines } from '../../src/pipeline/jsonl.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { BatchProgress } from '../../src/pipeline/progress.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { batchOptions, openTestAudit, tempDir } from '../support/pipeline.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

const POPULATION = { seed: 'cancel-embedded', size: 5_000 };
const LIMITS = { maxInFlight: 2, maxRatePerSecond: 1000, windowSlackMs: 150 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cancelling a batch in the embedded runner', () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  let dir: string;
  let audit: AuditStore;

  beforeAll(async () => {
    dir = await tempDir('cancel-embedded');
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 30, certDir: `${dir}/certs` });
    const settings = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: LIMITS.maxInFlight, maxRatePerSecond: LIMITS.maxRatePerSecond };
    client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter(LIMITS) });
    audit = await openTestAudit(dir);
  });
  afterAll(async () => {
    await audit?.close();
    client?.close();
    await simulator?.close();
  });

  async function newBatch(name: string, rows: number) {
    const cohort = await writeCohort({ ...POPULATION, rows, outDir: dir, name });
    return createBatch(`${dir}/data`, cohort.csvPath, batchOptions(`${dir}/out-${name}`, { chunkSize: 100 }), smspProvider(simulator.url));
  }

  it('stops a running batch at its next row: every exchange audited, no half chunk, no outputs', async () => {
    simulator.resetMetrics();
    const batch = await newBatch('running', 300);
    const progress = new BatchProgress();
    const run = runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: LIMITS.maxInFlight, progress, cancelPollMs: 100 });
    const outcome = run.then(() => 'finished', (err: unknown) => err);
    while (progress.total === undefined || progress.done - progress.byStatus.invalid_input < 20) await sleep(20);
    const ingested = await loadBatch(`${dir}/data`, batch.id);
    await cancelBatch(`${dir}/data`, ingested, 'tess');

    const err = await outcome;
    expect(err).toBeInstanceOf(BatchCancelledError);
    expect((err as Error).message).toMatch(new RegExp(`batch ${batch.id} was cancelled by tess at .*no outputs were written`));
    // Stopped well short of the batch, and every request sent was audited: rows under way finished.
    const exchanges = await audit.search({ batchId: batch.id, kind: 'smsp_exchange' });
    const sent = simulator.metrics().requestsTotal;
    expect(sent).toBeLessThan(250);
    expect(exchanges).toHaveLength(sent);
    // Chunk results are whole or absent.
    const paths = batchPaths(`${dir}/data`, batch.id);
    // (Beside them, each attempt's exchange journal, for the batch's audit CSV.)
    const results = (await readdir(paths.resultsDir)).filter((f) => /^\d{5}\.jsonl$/.test(f));
    for (const file of results) {
      const chunk = ingested.chunks!.find((c) => c.index === Number(file.slice(0, 5)))!;
      expect(await readAllJsonLines(`${paths.resultsDir}/${file}`)).toHaveLength(chunk.rows);
    }
    expect(results.length).toBeLessThan(ingested.chunks!.length);
    expect(await readdir(`${dir}/out-running`).catch(() => [] as string[])).toEqual([]);
    expect(JSON.parse(await readFile(paths.meta, 'utf8'))).toMatchObject({ state: 'cancelled', cancelled: { by: 'tess', from: 'ingested' } });
  }, 60_000);

  it('refuses to run a batch cancelled before it ran, sending nothing', async () => {
    simulator.resetMetrics();
    const batch = await newBatch('not-running', 50);
    const cancelled = await cancelBatch(`${dir}/data`, batch, 'tess');
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelled: { by: 'tess', from: 'created' } });
    await expect(runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: 2 })).rejects.toBeInstanceOf(BatchCancelledError);
    expect(simulator.metrics().requestsTotal).toBe(0);
  }, 30_000);

  it('keeps a batch cancelled when a stage that read it earlier saves it afterwards', async () => {
    const batch = await newBatch('stale-save', 10);
    await cancelBatch(`${dir}/data`, batch, 'tess');
    await saveBatch(batchPaths(`${dir}/data`, batch.id), { ...batch, state: 'ingested' });
    expect(await loadBatch(`${dir}/data`, batch.id)).toMatchObject({ state: 'cancelled', cancelled: { by: 'tess' } });
  });

  it('refuses to cancel a finished batch, or one whose every row is traced', async () => {
    const batch = await newBatch('finished', 30);
    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: 2 });
    await expect(cancelBatch(`${dir}/data`, run.meta, 'tess')).rejects.toThrow(`batch ${batch.id} is already assembled: nothing to cancel`);
    // Every chunk traced, outputs not yet written: too late.
    await expect(cancelBatch(`${dir}/data`, { ...run.meta, state: 'ingested' }, 'tess')).rejects.toBeInstanceOf(BatchNotCancellableError);
    expect((await loadBatch(`${dir}/data`, batch.id)).state).toBe('assembled');
  }, 30_000);
});
