import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBatch } from '../../src/pipeline/batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { expectResultsMatchGroundTruth } from '../support/pipeline.js';
import { apiUpload, getJson, POPULATION, signIn, startUploadServer, uploadForm, waitForBatch, type BatchJson } from './upload-support.js';

/**
 * `serve` tracing in its own process (no REDIS_URL) is stopped half-way through an uploaded batch;
 * started again on the same data folder, it takes the batch up and finishes it, every row once.
 */
describe('an uploaded batch across a restart of serve with the embedded runner', () => {
  it('is taken up again at start and finishes with results matching the ground truth', async () => {
    // Slow answers, two at a time: 300 rows take a few seconds, long enough to stop half-way.
    const first = await startUploadServer({ SMSP_MAX_IN_FLIGHT: '2', SMSP_MAX_RATE: '1000' }, undefined, 20);
    let second: Awaited<ReturnType<typeof startUploadServer>> | undefined;
    try {
      const cohort = await writeCohort({ ...POPULATION, rows: 300, outDir: path.join(first.dir, 'cohorts'), name: 'restart-cohort' });
      const tess = await signIn(first.url, 'tess');
      const response = await apiUpload(first.url, tess, uploadForm(readFileSync(cohort.csvPath), 'restart-cohort.csv'));
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { body } = await getJson<BatchJson>(first.url, tess, `/api/batches/${id}`);
        if (body.state === 'ingested' && body.done > 0) break;
        if (Date.now() > deadline) throw new Error(`batch never got under way: ${JSON.stringify(body)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.server.close();
      expect((await loadBatch(first.dataDir, id)).state).toBe('ingested');

      second = await startUploadServer({ SMSP_MAX_IN_FLIGHT: '8', SMSP_MAX_RATE: '1000' }, first);
      // The session survives the restart (sessions live in the data folder).
      const done = await waitForBatch(second.url, tess, id);
      expect(done).toMatchObject({ state: 'assembled', rows: 300, done: 300 });
      expectResultsMatchGroundTruth((await loadBatch(first.dataDir, id)).outputs!.results, cohort.expectedPath);
    } finally {
      await second?.close();
      await first.simulator.close();
    }
  }, 180_000);
});
