import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/pipeline.js';
import { runCli } from '../support/worker-process.js';

const CORPUS = 'test/csv/corpus';

/** Nothing was submitted: no batch folder exists, so no request could have been sent to SMSP. */
async function batchFolders(dataDir: string): Promise<string[]> {
  return readdir(path.join(dataDir, 'batches')).catch(() => []);
}

describe('pds-trace trace refuses, before creating a batch, a file with no data rows', () => {
  it.each(['empty.csv', 'bom-only.csv', 'header-only.csv', 'blank-lines-only.csv'])('%s exits 4 with a message and submits nothing', async (name) => {
    const dir = await tempDir('no-rows');
    await copyFile(path.join(CORPUS, name), path.join(dir, name));
    const run = runCli(['trace', path.join(dir, name), '--out', `${dir}/out`], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await run.exited, run.output()).toBe(4);
    expect(run.output()).toMatch(/The file was not traced: The file has no data rows/);
    expect(await batchFolders(`${dir}/data`)).toEqual([]);
    expect(await readdir(dir)).not.toContain('out');
  }, 30_000);
});

describe('pds-trace trace checks --out before creating a batch', () => {
  it('refuses an --out that is a file with exit 2, naming it, and submits nothing', async () => {
    const dir = await tempDir('bad-out');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dir}/not-a-folder`, 'x');
    const run = runCli(['trace', 'samples/cohort-small.csv', '--out', `${dir}/not-a-folder`], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await run.exited, run.output()).toBe(2);
    expect(run.output()).toContain(`${dir}/not-a-folder is not a folder`);
    expect(run.output()).toContain('--out');
    expect(await batchFolders(`${dir}/data`)).toEqual([]);
  }, 30_000);
});

describe('pds-trace trace never silently replaces another batch\'s outputs', () => {
  it('refuses a second run into the same folder, bytes unchanged, naming the file and its batch; --replace replaces', async () => {
    const dir = await tempDir('outputs-taken');
    const sample = (await readFile('samples/cohort-small.csv', 'utf8')).split('\n').slice(0, 4).join('\n') + '\n';
    await writeFile(`${dir}/cohort.csv`, sample);
    const env = { PDS_TRACE_DATA_DIR: `${dir}/data` };
    const args = ['trace', `${dir}/cohort.csv`, '--out', `${dir}/out`];

    const first = runCli(args, env);
    expect(await first.exited, first.output()).toBe(0);
    const firstBatch = /Batch (b\S+)/.exec(first.output())![1]!;
    const before = await Promise.all(['results.csv', 'summary.json'].map((f) => readFile(`${dir}/out/cohort.SIMULATED.${f}`)));

    const second = runCli(args, env);
    expect(await second.exited, second.output()).toBe(2);
    expect(second.output()).toContain(`${dir}/out/cohort.SIMULATED.results.csv already exists and belongs to batch ${firstBatch}`);
    expect(second.output()).toContain('--replace');
    expect(await batchFolders(`${dir}/data`)).toEqual([firstBatch]);
    const after = await Promise.all(['results.csv', 'summary.json'].map((f) => readFile(`${dir}/out/cohort.SIMULATED.${f}`)));
    expect(after).toEqual(before);

    // The same bytes again: --again past the duplicate check, --replace past the outputs.
    const replacing = runCli([...args, '--replace', '--again'], env);
    expect(await replacing.exited, replacing.output()).toBe(0);
    const secondBatch = /Batch (b\S+)/.exec(replacing.output())![1]!;
    expect(secondBatch).not.toBe(firstBatch);
    expect(JSON.parse(await readFile(`${dir}/out/cohort.SIMULATED.summary.json`, 'utf8')).batchId).toBe(secondBatch);
  }, 60_000);
});

describe('pds-trace trace keeps every cell', () => {
  it('writes a row with a 100 KB cell into the results byte for byte', async () => {
    const dir = await tempDir('large-cell-cli');
    const notes = Array.from({ length: 8000 }, (_, i) => `note ${i}, "q" é`).join(' ').slice(0, 100_000);
    const header = (await readFile('samples/cohort-small.csv', 'utf8')).split('\n')[1]!;
    await writeFile(`${dir}/cohort.csv`, `notes,local_id,nhs_number,family_name,given_name,date_of_birth,sex,postcode,address_line_1,address_line_2\n"${notes.replace(/"/g, '""')}",${header}\n`);
    const run = runCli(['trace', `${dir}/cohort.csv`, '--out', `${dir}/out`], { PDS_TRACE_DATA_DIR: `${dir}/data` });
    expect(await run.exited, run.output()).toBe(0);
    const { parse } = await import('csv-parse/sync');
    const results = parse(await readFile(`${dir}/out/cohort.SIMULATED.results.csv`), { bom: true }) as string[][];
    expect(results).toHaveLength(2);
    expect(results[1]![0]).toBe(notes);
    expect(results[1]![0]!.length).toBe(100_000);
  }, 30_000);
});
