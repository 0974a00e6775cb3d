import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import type { RowResult } from '../../src/domain/row-result.js';
import { assembleBatch } from '../../src/pipeline/assemble.js';
import { batchPaths, createBatch, loadBatch, saveBatch, type BatchMeta } from '../../src/pipeline/batch.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { ingestBatch } from '../../src/pipeline/ingest.js';
import { InputChangedError } from '../../src/pipeline/input-changed-error.js';
import { readAllJsonLines, writeJsonLines } from '../../src/pipeline/jsonl.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { retryErrorRows } from '../../src/pipeline/retry-errors.js';
import { runBatchEmbedded } from '../../src/pipeline/run-embedded.js';
import { traceChunk } from '../../src/pipeline/trace-chunk.js';
import { writeCohort, type CohortOptions } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { batchOptions, expectResultsMatchGroundTruth, openTestAudit, tempDir } from '../support/pipeline.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

/**
 * ARCHITECTURE property 9: a batch is bound to the bytes it was submitted with. It traces its own
 * copy, checks the copy's hash before every read, and joins each result only to the row it was
 * traced for, so an edited file stops the batch instead of shifting answers between patients.
 */

const POPULATION = { seed: 'input-binding', size: 5000 };
const CHANGED = /^batch \S+: the batch's input copy changed since submission; nothing was written; submit the file again$/;

/** The same file with its second and third data rows swapped: same rows, other order. */
async function swapSecondAndThirdRows(file: string): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  [lines[2], lines[3]] = [lines[3]!, lines[2]!];
  await writeFile(file, lines.join('\n'));
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Every file and folder under `dir`, with its permission bits. */
async function modesUnder(dir: string): Promise<Array<{ name: string; mode: number; folder: boolean }>> {
  const found: Array<{ name: string; mode: number; folder: boolean }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    found.push({ name: path.relative(dir, full), mode: (await stat(full)).mode & 0o777, folder: entry.isDirectory() });
  }
  return found;
}

async function outputsIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

describe('a batch bound to the bytes it was submitted with', () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  let audit: AuditStore;
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    simulator = await startTestSimulator(POPULATION);
    const settings = { ...loadConfig({}).smsp, url: simulator.url, retry: { attempts: 1, baseDelayMs: 1 } };
    client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 8, maxRatePerSecond: 10_000 }) });
    dir = await tempDir('input-binding');
    audit = await openTestAudit(dir);
  });
  afterAll(async () => {
    await audit?.close();
    client?.close();
    await simulator?.close();
  });

  /** A fresh cohort and batch of its own for each test. */
  async function submit(options: Partial<CohortOptions> = {}) {
    const name = `cohort${++n}`;
    const cohort = await writeCohort({ ...POPULATION, rows: 120, outDir: dir, name, ...options });
    const outDir = `${dir}/out${n}`;
    const batch = await createBatch(`${dir}/data`, cohort.csvPath, batchOptions(outDir, { chunkSize: 50 }), SIMULATOR_PROVIDER);
    return { cohort, batch, outDir, paths: batchPaths(`${dir}/data`, batch.id) };
  }

  /** Ingest and trace every chunk, stopping short of assembly. */
  async function traceAllChunks(batch: BatchMeta): Promise<BatchMeta> {
    const ingested = await ingestBatch(`${dir}/data`, batch, audit);
    for (const chunk of ingested.chunks ?? []) await traceChunk(`${dir}/data`, ingested, chunk.index, client, { audit });
    return ingested;
  }

  it('keeps an owner-only copy of the input, hashed as copied, and every file of the batch folder owner-only', async () => {
    const { cohort, batch, paths } = await submit();
    expect(batch.inputPath).toBe(path.resolve(cohort.csvPath));
    expect(batch.inputCopy).toBe('input.csv');
    expect(batch.inputSha256).toBe(await sha256(cohort.csvPath));
    expect(await sha256(paths.input)).toBe(batch.inputSha256);
    expect(batch.inputBytes).toBe((await stat(cohort.csvPath)).size);

    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: 8 });
    expect(run.meta.state).toBe('assembled');
    expect(run.meta.rowDigests).toBe('sha256-16');
    expect((await stat(paths.dir)).mode & 0o777).toBe(0o700);
    const entries = await modesUnder(paths.dir);
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining(['batch.json', 'input.csv', 'rejected.jsonl', 'chunks/00000.jsonl', 'results/00000.jsonl']));
    for (const entry of entries) expect(entry, entry.name).toMatchObject({ mode: entry.folder ? 0o700 : 0o600 });
    // The staging folder the copy is made in is owner-only and left empty.
    expect((await stat(`${dir}/data/staging`)).mode & 0o777).toBe(0o700);
    expect(await readdir(`${dir}/data/staging`)).toEqual([]);
  });

  it('traces the bytes submitted, whatever happens to the original file afterwards', async () => {
    const { cohort, batch } = await submit();
    await swapSecondAndThirdRows(cohort.csvPath);
    const ingested = await traceAllChunks(batch);
    await rm(cohort.csvPath);
    const { meta } = await assembleBatch(`${dir}/data`, ingested, { startedAt: new Date(batch.createdAt) });
    expectResultsMatchGroundTruth(meta.outputs!.results, cohort.expectedPath);
  });

  it('stops at ingest, rejecting the batch, when the copy changed since submission', async () => {
    const { batch, paths, outDir } = await submit();
    await swapSecondAndThirdRows(paths.input);
    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: 8 });
    expect(run.meta.state).toBe('rejected');
    expect(run.meta.rejection).toEqual({ reason: 'input_changed', message: expect.stringMatching(CHANGED) });
    expect(run.meta.chunks).toBeUndefined();
    expect(await outputsIn(outDir)).toEqual([]);
  });

  it('stops assembly, writing no output and leaving the batch rejected, when the copy changed after tracing', async () => {
    const { batch, paths, outDir } = await submit();
    const ingested = await traceAllChunks(batch);
    await swapSecondAndThirdRows(paths.input);
    const assembling = assembleBatch(`${dir}/data`, ingested, { startedAt: new Date(batch.createdAt) });
    await expect(assembling).rejects.toThrow(InputChangedError);
    await expect(assembling).rejects.toThrow(CHANGED);
    expect(await outputsIn(outDir)).toEqual([]);
    const stored = await loadBatch(`${dir}/data`, batch.id);
    expect(stored).toMatchObject({ state: 'rejected', rejection: { reason: 'input_changed' } });
    expect(stored.outputs).toBeUndefined();
  });

  it('also stops when the copy lost a byte only, or went missing', async () => {
    const { batch, paths, outDir } = await submit();
    const ingested = await traceAllChunks(batch);
    const bytes = await readFile(paths.input);
    await writeFile(paths.input, bytes.subarray(0, -1));
    await expect(assembleBatch(`${dir}/data`, ingested, { startedAt: new Date() })).rejects.toThrow(CHANGED);
    await rm(paths.input);
    await expect(assembleBatch(`${dir}/data`, ingested, { startedAt: new Date() })).rejects.toThrow(CHANGED);
    expect(await outputsIn(outDir)).toEqual([]);
  });

  it('refuses to retry before sending anything when the copy changed, leaving the outputs as they were', async () => {
    const { batch, paths } = await submit();
    const run = await runBatchEmbedded(`${dir}/data`, batch, { caller: client, audit, maxInFlight: 8 });
    const results = await readFile(run.meta.outputs!.results);
    // Make one row an error so that a retry would have something to send.
    const chunk0 = await readAllJsonLines<RowResult>(paths.chunkResults(0));
    chunk0[0] = { ...chunk0[0]!, status: 'error', reason: 'timeout' };
    await writeJsonLines(paths.chunkResults(0), chunk0);
    await swapSecondAndThirdRows(paths.input);
    const requests = simulator.metrics().requestsTotal;

    await expect(retryErrorRows(`${dir}/data`, run.meta, client, { maxInFlight: 8, audit })).rejects.toThrow(CHANGED);
    expect(simulator.metrics().requestsTotal).toBe(requests);
    expect(await readFile(run.meta.outputs!.results)).toEqual(results);
    expect((await loadBatch(`${dir}/data`, batch.id)).state).toBe('assembled');
  });

  it('refuses a result joined to a row it was not traced for, naming the row and not its content, though the file is unchanged', async () => {
    const { batch, paths, outDir } = await submit();
    const ingested = await traceAllChunks(batch);
    // Row numbers stay in order, results swap places: what a shifted join would look like.
    const results = await readAllJsonLines<RowResult>(paths.chunkResults(0));
    const [first, second] = [results[0]!, results[1]!];
    results[0] = { ...second, rowNumber: first.rowNumber };
    results[1] = { ...first, rowNumber: second.rowNumber };
    await writeJsonLines(paths.chunkResults(0), results);

    const assembling = assembleBatch(`${dir}/data`, ingested, { startedAt: new Date() });
    await expect(assembling).rejects.toMatchObject({ name: 'InputChangedError', row: first.rowNumber });
    await expect(assembling).rejects.toThrow(
      new RegExp(`^batch ${batch.id}: row ${first.rowNumber} of the batch's input copy is not the row that was traced; nothing was written; submit the file again$`),
    );
    expect(await outputsIn(outDir)).toEqual([]);
  });

  it('refuses a rejected row’s result joined to another row, and a result with no digest in a batch that has them', async () => {
    const { batch, paths } = await submit({ rows: 200 });
    const ingested = await traceAllChunks(batch);
    const rejected = await readAllJsonLines<RowResult>(paths.rejected);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((r) => /^[0-9a-f]{16}$/.test(r.rowDigest ?? ''))).toBe(true);
    await writeJsonLines(paths.rejected, [{ ...rejected[0]!, rowDigest: '0000000000000000' }, ...rejected.slice(1)]);
    await expect(assembleBatch(`${dir}/data`, ingested, { startedAt: new Date() })).rejects.toMatchObject({ row: rejected[0]!.rowNumber });

    await writeJsonLines(paths.rejected, rejected);
    const results = await readAllJsonLines<RowResult>(paths.chunkResults(1));
    const { rowDigest: _dropped, ...undigested } = results[0]!;
    await writeJsonLines(paths.chunkResults(1), [undigested, ...results.slice(1)]);
    await expect(assembleBatch(`${dir}/data`, ingested, { startedAt: new Date() })).rejects.toMatchObject({ row: results[0]!.rowNumber });
  });

  it('assembles a batch from before copies and digests as it did, still checking the file’s hash', async () => {
    const { cohort, batch, paths } = await submit();
    const ingested = await traceAllChunks(batch);
    // As an older version left it: no copy, no digests, the original file read in place.
    const { inputCopy: _c, inputBytes: _b, rowDigests: _d, ...older } = ingested;
    await saveBatch(paths, older);
    await rm(paths.input);
    for (const file of [paths.rejected, ...(older.chunks ?? []).map((c) => paths.chunkResults(c.index))]) {
      const results = await readAllJsonLines<RowResult>(file);
      await writeJsonLines(file, results.map(({ rowDigest: _r, ...rest }) => rest));
    }
    const { meta } = await assembleBatch(`${dir}/data`, older, { startedAt: new Date(batch.createdAt) });
    expectResultsMatchGroundTruth(meta.outputs!.results, cohort.expectedPath);

    await swapSecondAndThirdRows(cohort.csvPath);
    await expect(assembleBatch(`${dir}/data`, meta, { startedAt: new Date() })).rejects.toThrow(CHANGED);
    // An assembled batch keeps its state and outputs: only the new assembly was refused.
    expect((await loadBatch(`${dir}/data`, batch.id)).state).toBe('assembled');
  });
});
