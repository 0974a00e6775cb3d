import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { assembleBatch } from '../../src/pipeline/assemble.js';
import { batchPaths, createBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { ingestBatch } from '../../src/pipeline/ingest.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { assertOutputsFree, claimOutputs, OutputsTakenError } from '../../src/pipeline/output-ownership.js';
import { outputPaths } from '../../src/pipeline/output-paths.js';
import { batchOptions, tempDir } from '../support/pipeline.js';

async function setting(): Promise<{ dataDir: string; outDir: string; meta: (id: string, replace?: boolean) => Promise<BatchMeta> }> {
  const dir = await tempDir('ownership');
  const dataDir = `${dir}/data`;
  const outDir = `${dir}/out`;
  await mkdir(outDir);
  const meta = async (id: string, replace = false): Promise<BatchMeta> => {
    await mkdir(batchPaths(dataDir, id).dir, { recursive: true });
    return { id, createdAt: '', inputPath: `${dir}/cohort.csv`, name: 'cohort', inputSha256: '', options: batchOptions(outDir, { replaceOutputs: replace }), state: 'ingested' };
  };
  return { dataDir, outDir, meta };
}

/** The outputs another batch left: a results file and the summary that names it. */
async function leaveOutputsOf(outDir: string, batchId: string | null): Promise<void> {
  const outputs = outputPaths(outDir, 'cohort', false);
  await writeFile(outputs.results, 'their results\n');
  if (batchId) await writeFile(outputs.summaryJson, JSON.stringify({ label: 'x', batchId }));
}

async function refusal(promise: Promise<unknown>): Promise<OutputsTakenError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutputsTakenError);
  return err as OutputsTakenError;
}

describe('at submission, outputs already in the folder', () => {
  it('are refused, naming the first file and the batch its summary names, and saying how to proceed', async () => {
    const { outDir } = await setting();
    await leaveOutputsOf(outDir, 'b-last-month');
    const err = await refusal(assertOutputsFree(outputPaths(outDir, 'cohort', false), { replace: false }));
    expect(err.file).toBe(`${outDir}/cohort.results.csv`);
    expect(err.owner).toBe('b-last-month');
    expect(err.message).toMatch(/belongs to batch b-last-month.*another --out.*--replace/);
  });

  it('without a summary have no known owner, and are refused all the same', async () => {
    const { outDir } = await setting();
    await leaveOutputsOf(outDir, null);
    const err = await refusal(assertOutputsFree(outputPaths(outDir, 'cohort', false), { replace: false }));
    expect(err.owner).toBeNull();
    expect(err.message).toContain('no summary in that folder says which batch wrote it');
  });

  it('are no obstacle with --replace, nor are outputs of another name', async () => {
    const { outDir } = await setting();
    await leaveOutputsOf(outDir, 'b-last-month');
    await expect(assertOutputsFree(outputPaths(outDir, 'cohort', false), { replace: true })).resolves.toBeUndefined();
    await expect(assertOutputsFree(outputPaths(outDir, 'other-cohort', false), { replace: false })).resolves.toBeUndefined();
  });
});

describe('at assemble, claimOutputs', () => {
  it('lets a batch write into an empty set, and rewrite its own set (retry)', async () => {
    const { dataDir, outDir, meta } = await setting();
    const mine = await meta('b-mine');
    await claimOutputs(dataDir, mine, outputPaths(outDir, 'cohort', false));
    await leaveOutputsOf(outDir, 'b-mine');
    await claimOutputs(dataDir, mine, outputPaths(outDir, 'cohort', false));
  });

  it('refuses a set of another batch that appeared after submission, leaving its bytes alone', async () => {
    const { dataDir, outDir, meta } = await setting();
    await leaveOutputsOf(outDir, 'b-other');
    const err = await refusal(claimOutputs(dataDir, await meta('b-mine'), outputPaths(outDir, 'cohort', false)));
    expect(err.owner).toBe('b-other');
    expect(err.message).toMatch(/batch b-mine will not replace .*cohort\.results\.csv: it belongs to batch b-other.*pds-trace resume b-mine/);
    expect(await readFile(`${outDir}/cohort.results.csv`, 'utf8')).toBe('their results\n');
  });

  it('replaces another batch\'s set when the batch was submitted with --replace', async () => {
    const { dataDir, outDir, meta } = await setting();
    await leaveOutputsOf(outDir, 'b-other');
    await claimOutputs(dataDir, await meta('b-mine', true), outputPaths(outDir, 'cohort', false));
  });

  it('after a crash between the results and the summary, lets the same batch finish its half-written set', async () => {
    const { dataDir, outDir, meta } = await setting();
    const mine = await meta('b-mine');
    await claimOutputs(dataDir, mine, outputPaths(outDir, 'cohort', false));
    await leaveOutputsOf(outDir, null); // its own results, no summary yet
    await claimOutputs(dataDir, mine, outputPaths(outDir, 'cohort', false));
  });

  it('does not take a claim as leave to replace a set another batch finished since', async () => {
    const { dataDir, outDir, meta } = await setting();
    const mine = await meta('b-mine');
    await claimOutputs(dataDir, mine, outputPaths(outDir, 'cohort', false));
    await leaveOutputsOf(outDir, 'b-other');
    await refusal(claimOutputs(dataDir, mine, outputPaths(outDir, 'cohort', false)));
  });

  it('is what assembleBatch asks before it writes anything: another batch\'s set is refused, bytes unchanged', async () => {
    const { dataDir, outDir } = await setting();
    // A real batch, ingested: its one row is refused locally, so it assembles with no SMSP.
    const input = `${outDir}/../cohort.csv`;
    await writeFile(input, 'nhs_number,family_name,date_of_birth,sex\n123,SYNTHETIC,1970-01-01,F\n');
    const created = await createBatch(dataDir, input, batchOptions(outDir), smspProvider('https://smsp.example.test/pds'));
    const ingested = await ingestBatch(dataDir, created, { append: async () => [] });
    await leaveOutputsOf(outDir, 'b-other');
    const before = await readFile(`${outDir}/cohort.summary.json`);
    await refusal(assembleBatch(dataDir, ingested, { startedAt: new Date() }));
    expect(await readFile(`${outDir}/cohort.summary.json`)).toEqual(before);
    expect(await readFile(`${outDir}/cohort.results.csv`, 'utf8')).toBe('their results\n');
  });
});
