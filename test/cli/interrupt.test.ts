import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/errors.js';
import { provisionServiceAccount } from '../support/accounts.js';
import { ensureBuiltCli, runBuiltCli, STACK_TRACE, waitFor } from '../support/built-cli.js';
import { tempDir } from '../support/pipeline.js';
import { smspClientEnv, startTestSimulator, type TestSimulator } from '../support/simulator.js';

/** Ctrl+C in the middle of a trace: a real SIGINT to the command while the simulator is slow to answer. */

let simulator: TestSimulator;
let dir: string;

beforeAll(async () => {
  ensureBuiltCli();
  dir = await tempDir('ctrl-c');
  simulator = await startTestSimulator({ latencyMs: 250, certDir: `${dir}/certs` });
}, 120_000);

afterAll(async () => simulator?.close());

describe('Ctrl+C during trace', () => {
  it('exits 130 and names the very batch to resume, not a placeholder', async () => {
    const env = { ...smspClientEnv(simulator, `${dir}/data`), SMSP_MAX_IN_FLIGHT: '2', ...(await provisionServiceAccount(`${dir}/data`)) };
    // 200 rows, two at a time, a quarter of a second each: some 25 s, so it is mid-run below.
    const run = runBuiltCli(['trace', 'samples/cohort-small.csv', '--out', `${dir}/out`, '--chunk-size', '50'], env);
    const [, batchId] = await waitFor(run.stderr, /Batch (b\S+)/);
    await new Promise((r) => setTimeout(r, 2_000));
    run.child.kill('SIGINT');
    expect(await run.exited, run.output()).toBe(EXIT.interrupted);
    expect(run.stderr()).toContain(`interrupted: finished chunks are kept; run \`pds-trace resume ${batchId}\` to finish the batch`);
    expect(run.output()).not.toContain('<batch>');
    expect(run.output()).not.toMatch(STACK_TRACE);
  }, 120_000);
});
