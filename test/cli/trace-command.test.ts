import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { expectResultsMatchGroundTruth, tempDir } from '../support/pipeline.js';
import { runCli } from '../support/worker-process.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { provisionServiceAccount } from '../support/accounts.js';

describe('pds-trace trace, as a user runs it', () => {
  it('traces the README sample against the built-in simulator, says so loudly, and matches its ground truth', async () => {
    const out = await tempDir('quickstart');
    const run = runCli(['trace', 'samples/cohort-small.csv', '--out', out], { PDS_TRACE_DATA_DIR: `${out}/data`, SMSP_MAX_RATE: '400' });
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toContain('BUILT-IN SIMULATOR');
    // Sixteen rows in progress share one shutdown signal: one listener on it, not sixteen.
    expect(run.output()).not.toContain('MaxListenersExceededWarning');
    expect(run.output()).toMatch(/verified\s+81/);
    expectResultsMatchGroundTruth(path.join(out, 'cohort-small.SIMULATED.results.csv'), 'samples/cohort-small.expected.csv');
    // Every output says SIMULATED: in its name, and inside the summaries.
    const outputs = (await readdir(out)).filter((f) => !f.startsWith('data'));
    expect(outputs.sort()).toEqual([
      'cohort-small.SIMULATED.audit.csv',
      'cohort-small.SIMULATED.back-office.csv',
      'cohort-small.SIMULATED.discrepancies.csv',
      'cohort-small.SIMULATED.results.csv',
      'cohort-small.SIMULATED.summary.html',
      'cohort-small.SIMULATED.summary.json',
    ]);
    const summary = JSON.parse(await readFile(path.join(out, 'cohort-small.SIMULATED.summary.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({ simulated: true, provider: 'built-in simulator' });
    expect(await readFile(path.join(out, 'cohort-small.SIMULATED.summary.html'), 'utf8')).toContain('SIMULATED: answers from the built-in SMSP simulator');
    expect(run.output()).toContain('(SIMULATOR, synthetic data)');
  }, 60_000);

  it('exits 4 with the columns found and missing when the file cannot be mapped', async () => {
    const dir = await tempDir('rejected');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dir}/shopping.csv`, 'item,quantity\napples,3\n');
    const run = runCli(['trace', `${dir}/shopping.csv`], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await run.exited).toBe(4);
    expect(run.output()).toMatch(/item/);
    expect(run.output()).toMatch(/quantity/);
  }, 30_000);

  it('exits 3 naming the bad setting when the configuration is wrong', async () => {
    const run = runCli(['trace', 'samples/cohort-small.csv'], { SMSP_MAX_IN_FLIGHT: 'lots' });
    expect(await run.exited).toBe(3);
    expect(run.output()).toContain('SMSP_MAX_IN_FLIGHT');
  }, 30_000);

  it('once governance is on, refuses a signed-in account whose roles do not allow tracing, and one with no credentials', async () => {
    const dir = await tempDir('denied');
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data`, SMSP_URL: 'https://127.0.0.1:9/smsp/pds', SMSP_ASID: '999000000001', SMSP_TLS_CERT: 'x.pem', SMSP_TLS_KEY: 'y.pem' };
    const operator = await provisionServiceAccount(`${dir}/data`, ['operator']);
    const refused = runCli(['trace', 'samples/cohort-small.csv'], { ...env, ...operator });
    expect(await refused.exited, refused.output()).toBe(6);
    expect(refused.output()).toMatch(/batch\.submit/);
    const anonymous = runCli(['trace', 'samples/cohort-small.csv'], env);
    expect(await anonymous.exited, anonymous.output()).not.toBe(0);
    expect(anonymous.output()).toContain('Computer Misuse Act 1990');
  }, 30_000);

  describe('interrupted and resumed', () => {
    let simulator: TestSimulator;
    let dir: string;
    beforeAll(async () => {
      dir = await tempDir('interrupt');
      simulator = await startTestSimulator({ seed: 'interrupt', size: 5000, latencyMs: 20, certDir: `${dir}/certs` });
    });
    afterAll(async () => simulator?.close());

    it('stops on SIGINT keeping finished chunks, and `resume` finishes the batch to the ground truth', async () => {
      const cohort = await writeCohort({ seed: 'interrupt', size: 5000, rows: 1500, outDir: dir, name: 'cohort' });
      const env = {
        ...smspClientEnv(simulator, `${dir}/data`),
        SMSP_MAX_IN_FLIGHT: '4',
        SMSP_MAX_RATE: '1000',
        ...(await provisionServiceAccount(`${dir}/data`)),
      };
      const run = runCli(['trace', cohort.csvPath, '--out', `${dir}/out`, '--chunk-size', '100'], env);
      while (!/ (\d{3,})\/1500 rows/.test(run.output())) await new Promise((r) => setTimeout(r, 100));
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
      const batchId = /Batch (b\S+)/.exec(run.output())![1]!;
      expect(run.output()).toContain(`pds-trace resume ${batchId}`);

      const resumed = runCli(['resume', batchId], env);
      expect(await resumed.exited, resumed.output()).toBe(0);
      expectResultsMatchGroundTruth(`${dir}/out/cohort.results.csv`, cohort.expectedPath);
      // A real-looking SMSP's outputs keep their names and never say SIMULATED.
      expect((await readdir(`${dir}/out`)).filter((f) => /simulated/i.test(f))).toEqual([]);
      const summary = await readFile(`${dir}/out/cohort.summary.json`, 'utf8');
      expect(JSON.parse(summary)).toMatchObject({ simulated: false, provider: new URL(simulator.url).href });
      expect(summary).not.toContain('SIMULATED');
      expect(await readFile(`${dir}/out/cohort.summary.html`, 'utf8')).not.toContain('SIMULATED');
    }, 120_000);
  });
});
