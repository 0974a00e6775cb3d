import { mkdir, readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { batchPaths, createBatch, loadBatch, saveBatch } from '../../src/pipeline/batch.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { batchOptions, tempDir } from '../support/pipeline.js';
import { provisionServiceAccount } from '../support/accounts.js';
import { runCli } from '../support/worker-process.js';

/** A real-looking SMSP that nothing listens on: a batch bound to it must never reach the simulator. */
const SPINE_URL = 'https://127.0.0.1:9/smsp/pds';

describe('commands on another provider than the batch', () => {
  it('embedded `resume` of a batch for a real SMSP, in simulator mode, exits 3 naming both providers and SMSP_URL, tracing nothing', async () => {
    const dir = await tempDir('resume-mismatch');
    const batch = await createBatch(`${dir}/data`, 'samples/cohort-small.csv', batchOptions(`${dir}/out`), smspProvider(SPINE_URL));
    const run = runCli(['resume', batch.id], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await run.exited, run.output()).toBe(3);
    expect(run.output()).toContain(SPINE_URL);
    expect(run.output()).toContain('built-in simulator');
    expect(run.output()).toContain(`SMSP_URL=${SPINE_URL}`);
    expect(run.output()).not.toContain('BUILT-IN SIMULATOR');
    expect((await loadBatch(`${dir}/data`, batch.id)).state).toBe('created');
  }, 30_000);

  it('`retry` of a finished simulator batch on a real SMSP exits 3 naming PDS_TRACE_SIMULATOR', async () => {
    const dir = await tempDir('retry-mismatch');
    const batch = await createBatch(`${dir}/data`, 'samples/cohort-small.csv', batchOptions(`${dir}/out`), { kind: 'simulator' });
    await saveBatch(batchPaths(`${dir}/data`, batch.id), { ...batch, state: 'assembled' });
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data`, SMSP_URL: SPINE_URL, SMSP_ASID: '999000000001', SMSP_TLS_CERT: 'x.pem', SMSP_TLS_KEY: 'y.pem', ...(await provisionServiceAccount(`${dir}/data`)) };
    const run = runCli(['retry', batch.id], env);
    expect(await run.exited, run.output()).toBe(3);
    expect(run.output()).toContain(`batch ${batch.id} is for built-in simulator but this process is on ${SPINE_URL}`);
    expect(run.output()).toContain('PDS_TRACE_SIMULATOR=true');
  }, 30_000);

  it('embedded `resume` of a batch made before batches recorded their provider exits 3 asking for it to be submitted again', async () => {
    const dir = await tempDir('resume-old');
    const batch = await createBatch(`${dir}/data`, 'samples/cohort-small.csv', batchOptions(`${dir}/out`), { kind: 'simulator' });
    const { provider: _dropped, ...older } = batch;
    await saveBatch(batchPaths(`${dir}/data`, batch.id), older);
    const run = runCli(['resume', batch.id], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await run.exited, run.output()).toBe(3);
    expect(run.output()).toMatch(/records no SMSP provider.*submit the file again/);
  }, 30_000);
});

describe('the simulator only when asked for', () => {
  it('`trace` and `worker` with users and neither SMSP_URL nor PDS_TRACE_SIMULATOR exit 3 naming both, starting no simulator', async () => {
    const dir = await tempDir('no-provider');
    await mkdir(`${dir}/data`, { recursive: true });
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data`, REDIS_URL: 'redis://127.0.0.1:9', ...(await provisionServiceAccount(`${dir}/data`)) };
    for (const args of [['trace', 'samples/cohort-small.csv', '--out', `${dir}/out`], ['worker']]) {
      const run = runCli(args, env);
      expect(await run.exited, run.output()).toBe(3);
      expect(run.output()).toContain('SMSP_URL');
      expect(run.output()).toContain('PDS_TRACE_SIMULATOR=true');
      expect(run.output()).not.toContain('BUILT-IN SIMULATOR');
    }
    // Refused before any batch was made.
    expect(await readdir(`${dir}/data/batches`).catch(() => [])).toEqual([]);
  }, 60_000);

  it('`trace` with users and PDS_TRACE_SIMULATOR=true traces against the simulator, and its outputs say SIMULATED', async () => {
    const dir = await tempDir('asked-simulator');
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data`, PDS_TRACE_SIMULATOR: 'true', SMSP_MAX_RATE: '400', ...(await provisionServiceAccount(`${dir}/data`)) };
    const run = runCli(['trace', 'samples/cohort-small.csv', '--out', `${dir}/out`], env);
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toContain('BUILT-IN SIMULATOR');
    expect(run.output()).toMatch(/cohort-small\.SIMULATED\.results\.csv/);
  }, 60_000);
});
