import { beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_WORDS } from '../../src/pipeline/output-words.js';
import { ensureBuiltCli, runBuiltCli, STACK_TRACE } from '../support/built-cli.js';
import { tempDir } from '../support/pipeline.js';

/**
 * What `pds-trace trace` writes when its output goes to a file or a pipe, as under a scheduler:
 * plain progress lines without carriage returns, log lines as JSON lines (or text when asked),
 * and the output files listed in words.
 */

beforeAll(() => ensureBuiltCli(), 120_000);

async function trace(extra: string[]) {
  const dir = await tempDir('terminal');
  const run = runBuiltCli([...extra, 'trace', 'samples/cohort-small.csv', '--out', `${dir}/out`], { PDS_TRACE_DATA_DIR: `${dir}/data`, SMSP_MAX_RATE: '400', LOG_LEVEL: 'info' });
  expect(await run.exited, run.output()).toBe(0);
  expect(run.output()).not.toMatch(STACK_TRACE);
  return { stdout: run.stdout(), stderr: run.stderr(), dir };
}

describe('trace with its output not on a terminal', () => {
  it('writes progress as plain lines, logs as JSON lines, and lists the outputs in words', async () => {
    const { stdout, stderr, dir } = await trace([]);
    expect(stderr).not.toContain('\r');
    expect(stderr).toMatch(/^\[#+\] 200\/200 rows \(100%\)/m);
    const logLines = stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.map((l) => JSON.parse(l) as { message: string }).map((l) => l.message)).toContain('batch created');

    for (const words of Object.values(OUTPUT_WORDS)) expect(stdout).toContain(`  ${words}:`);
    expect(stdout).toMatch(new RegExp(`Summary \\(web page\\): +${dir}/out/cohort-small\\.SIMULATED\\.summary\\.html`));
    expect(stdout).not.toMatch(/summaryJson|summaryHtml|backOffice/);
  }, 120_000);

  it('writes log lines as text with --log-format text, and no JSON line among them', async () => {
    const { stderr } = await trace(['--log-format', 'text']);
    expect(stderr).toMatch(/^\d{2}:\d{2}:\d{2} info  batch created batchId=b\S+/m);
    expect(stderr.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
  }, 120_000);
});
