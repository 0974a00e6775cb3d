import { describe, expect, it } from 'vitest';
import { DEFAULT_POPULATION } from '../../src/simulator/defaults.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { expectResultsMatchGroundTruth, tempDir } from '../support/pipeline.js';
import { runCli } from '../support/worker-process.js';

/**
 * Issue 15's listener leak, as a user met it: a long trace printed MaxListenersExceededWarning
 * lines (more than its real ones). 10,000 rows through the built-in simulator: no warning of any
 * kind, every row as the ground truth says, and the progress written as plain lines, not redrawn.
 */
describe('a 10,000-row trace', () => {
  it('prints no warning, matches its ground truth and writes plain progress lines when not on a terminal', async () => {
    const dir = await tempDir('long-trace');
    const cohort = await writeCohort({ ...DEFAULT_POPULATION, rows: 10_000, outDir: dir, name: 'long' });
    const run = runCli(['trace', cohort.csvPath, '--out', `${dir}/out`, '--chunk-size', '1000'], {
      PDS_TRACE_DATA_DIR: `${dir}/data`,
      SMSP_MAX_RATE: '2000',
      SMSP_MAX_IN_FLIGHT: '32',
    });
    expect(await run.exited, run.output()).toBe(0);
    const output = run.output();
    expect(output).not.toMatch(/Warning|MaxListeners|\(node:\d+\)/);
    expect(output).not.toContain('\r');
    expect(output).toMatch(/Results:\s+\S+long\.SIMULATED\.results\.csv/);
    expectResultsMatchGroundTruth(`${dir}/out/long.SIMULATED.results.csv`, cohort.expectedPath);
  }, 300_000);
});
