import { readdir, readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/pipeline.js';
import { runCli } from '../support/worker-process.js';

const batchIdOf = (output: string) => /Batch (b\S+)/.exec(output)?.[1];

describe('pds-trace trace refuses the same bytes traced recently', () => {
  it('refuses a second trace with exit 4 naming the earlier batch, when, its state and results; --again traces; outside the window it traces', async () => {
    const dir = await tempDir('trace-again');
    const sample = (await readFile('samples/cohort-small.csv', 'utf8')).split('\n').slice(0, 6).join('\n') + '\n';
    await writeFile(`${dir}/cohort.csv`, sample);
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data` };
    // Each run writes to its own folder, so the outputs check (exit 2) never stands in the way.
    const trace = (out: string, ...flags: string[]) => runCli(['trace', `${dir}/cohort.csv`, '--out', `${dir}/${out}`, ...flags], env);

    const first = trace('out1');
    expect(await first.exited, first.output()).toBe(0);
    const firstBatch = batchIdOf(first.output())!;
    const firstMeta = JSON.parse(await readFile(`${dir}/data/batches/${firstBatch}/batch.json`, 'utf8')) as { createdAt: string };

    const second = trace('out2');
    expect(await second.exited, second.output()).toBe(4);
    expect(second.output()).toContain(`was submitted as batch ${firstBatch} at ${firstMeta.createdAt}`);
    expect(second.output()).toContain('which is finished (assembled)');
    expect(second.output()).toContain(`${dir}/out1/cohort.SIMULATED.results.csv`);
    expect(second.output()).toContain('Use --again to trace it anyway.');
    expect(second.output()).not.toMatch(/\n\s+at /);
    expect(await readdir(`${dir}/data/batches`)).toEqual([firstBatch]);

    const again = trace('out2', '--again');
    expect(await again.exited, again.output()).toBe(0);
    const againBatch = batchIdOf(again.output())!;
    expect(againBatch).not.toBe(firstBatch);
    expect(again.output()).toContain(`Traced again (--again) after batch ${firstBatch}`);
    expect(JSON.parse(await readFile(`${dir}/out2/cohort.SIMULATED.summary.json`, 'utf8')).batchId).toBe(againBatch);

    // With a window of 0 hours only batches in progress count: both earlier ones have finished.
    const outside = runCli(['trace', `${dir}/cohort.csv`, '--out', `${dir}/out3`], { ...env, PDS_TRACE_DUPLICATE_WINDOW_HOURS: '0' });
    expect(await outside.exited, outside.output()).toBe(0);
    expect((await readdir(`${dir}/data/batches`)).sort()).toHaveLength(3);
  }, 240_000);
});
