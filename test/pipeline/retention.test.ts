import { access, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchPaths, createBatch, loadBatch, saveBatch, type BatchMeta, type BatchState } from '../../src/pipeline/batch.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { ingestBatch } from '../../src/pipeline/ingest.js';
import { writeJsonLines } from '../../src/pipeline/jsonl.js';
import { BatchStillRunningError, removeWorkFiles, sweepWorkFiles, WorkFilesRemovedError, requireWorkFiles } from '../../src/pipeline/retention.js';
import { batchOptions, tempDir } from '../support/pipeline.js';

const HOUR = 3_600_000;
const NOW = new Date('2026-12-06T08:00:00.000Z');
const ago = (hours: number) => new Date(NOW.getTime() - hours * HOUR);
const noAudit = { append: async () => [] };

const exists = (file: string) => access(file).then(() => true, () => false);

/**
 * A batch as the pipeline leaves it: its input copy, chunks and row lists from a real ingest, a
 * results file per chunk, outputs in its output folder; then put in `state`, finished `finishedHoursAgo`.
 */
async function batchIn(dir: string, name: string, state: BatchState, finishedHoursAgo: number | undefined, createdHoursAgo = 400): Promise<BatchMeta> {
  const input = path.join(dir, `${name}.csv`);
  await writeFile(input, 'nhs_number,family_name,given_name,date_of_birth,sex,postcode\n9434765919,Smith,Ann,1970-01-01,F,LS1 4AP\n,Jones,,,,\n');
  const created = await createBatch(`${dir}/data`, input, batchOptions(`${dir}/out-${name}`), SIMULATOR_PROVIDER, ago(createdHoursAgo));
  const ingested = await ingestBatch(`${dir}/data`, created, noAudit);
  const paths = batchPaths(`${dir}/data`, created.id);
  for (const chunk of ingested.chunks ?? []) await writeJsonLines(paths.chunkResults(chunk.index), [{ rowNumber: chunk.firstRow, status: 'error', reason: 'timeout', exchanges: [] }]);
  await mkdir(`${dir}/out-${name}`, { recursive: true });
  const results = path.join(`${dir}/out-${name}`, `${name}.results.csv`);
  await writeFile(results, 'synthetic results\n');
  const meta: BatchMeta = {
    ...ingested,
    state,
    ...(finishedHoursAgo === undefined ? {} : { finishedAt: ago(finishedHoursAgo).toISOString() }),
    ...(state === 'assembled' ? { outputs: { results, audit: results, summaryJson: results, summaryHtml: results, backOffice: results, discrepancies: results } } : {}),
  };
  await saveBatch(paths, meta);
  return meta;
}

function workFiles(dir: string, meta: BatchMeta): string[] {
  const paths = batchPaths(`${dir}/data`, meta.id);
  return [paths.input, paths.chunksDir, paths.resultsDir, paths.rejected, paths.localIdRepeats];
}

describe('removing the work files of finished batches', () => {
  it('removes them from finished batches past the retention period only, keeping batch.json, the outputs and the original file', async () => {
    const dir = await tempDir('retention');
    const old = await batchIn(dir, 'old', 'assembled', 200);
    const young = await batchIn(dir, 'young', 'assembled', 2);
    const running = await batchIn(dir, 'running', 'ingested', undefined);
    const rejected = await batchIn(dir, 'rejected', 'rejected', undefined, 169);
    const rejectedYoung = await batchIn(dir, 'rejected-young', 'rejected', undefined, 100);
    // A folder without a readable batch.json is left alone rather than stopping the sweep.
    await mkdir(`${dir}/data/batches/b-broken`, { recursive: true });
    for (const meta of [old, young, running, rejected]) for (const file of workFiles(dir, meta)) expect(await exists(file), file).toBe(true);

    const removed = await sweepWorkFiles(`${dir}/data`, { retentionHours: 168, now: NOW });

    expect(removed.map((m) => m.id).sort()).toEqual([old.id, rejected.id].sort());
    for (const meta of [old, rejected]) {
      for (const file of workFiles(dir, meta)) expect(await exists(file), file).toBe(false);
      const stored = await loadBatch(`${dir}/data`, meta.id);
      expect(stored.workFilesRemoved).toEqual({ at: NOW.toISOString(), by: 'retention', retentionHours: 168 });
      expect(stored.state).toBe(meta.state);
      expect(await readdir(batchPaths(`${dir}/data`, meta.id).dir)).toEqual(['batch.json']);
      // The user's own file is theirs: never touched.
      expect(await exists(meta.inputPath)).toBe(true);
    }
    expect(await exists(old.outputs!.results)).toBe(true);
    for (const meta of [young, running, rejectedYoung]) {
      for (const file of workFiles(dir, meta)) expect(await exists(file), file).toBe(true);
      expect((await loadBatch(`${dir}/data`, meta.id)).workFilesRemoved).toBeUndefined();
    }

    // A second sweep finds nothing more to do, and records nothing twice.
    expect(await sweepWorkFiles(`${dir}/data`, { retentionHours: 168, now: new Date(NOW.getTime() + HOUR) })).toEqual([]);
  });

  it('with a retention of 0, removes them from a batch finished a moment ago', async () => {
    const dir = await tempDir('retention-zero');
    const just = await batchIn(dir, 'just', 'assembled', 0);
    const removed = await sweepWorkFiles(`${dir}/data`, { retentionHours: 0, now: NOW });
    expect(removed.map((m) => m.workFilesRemoved)).toEqual([{ at: NOW.toISOString(), by: 'retention', retentionHours: 0 }]);
    for (const file of workFiles(dir, just)) expect(await exists(file)).toBe(false);
  });

  it('purges a finished batch at once, recording who did it, and refuses a running one', async () => {
    const dir = await tempDir('purge');
    const finished = await batchIn(dir, 'finished', 'assembled', 1);
    const running = await batchIn(dir, 'running', 'ingested', undefined);

    const purged = await removeWorkFiles(`${dir}/data`, finished, { by: 'tess' }, NOW);
    expect(purged.workFilesRemoved).toEqual({ at: NOW.toISOString(), by: 'tess' });
    for (const file of workFiles(dir, finished)) expect(await exists(file)).toBe(false);
    expect(() => requireWorkFiles(purged, 'retried')).toThrow(
      new WorkFilesRemovedError(finished.id, purged.workFilesRemoved!, 'retried').message,
    );
    expect(() => requireWorkFiles(purged, 'retried')).toThrow(/^batch \S+'s work files were removed on 2026-12-06 08:00 UTC by tess \(purge\); it cannot be retried — submit the file again$/);

    await expect(removeWorkFiles(`${dir}/data`, running, { by: 'tess' }, NOW)).rejects.toThrow(BatchStillRunningError);
    for (const file of workFiles(dir, running)) expect(await exists(file)).toBe(true);
  });

  it('says when and under which retention period the sweep removed them', () => {
    const meta = { id: 'b-x', workFilesRemoved: { at: '2026-12-06T08:00:00.000Z', by: 'retention', retentionHours: 168 } } as BatchMeta;
    expect(() => requireWorkFiles(meta, 'resumed')).toThrow(
      "batch b-x's work files were removed on 2026-12-06 08:00 UTC (retention 168 h); it cannot be resumed — submit the file again",
    );
  });
});
