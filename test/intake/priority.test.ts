import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import type { Principal } from '../../src/auth/authorise.js';
import { queueRunner } from '../../src/intake/runners.js';
import { submit, type SubmittedBatch } from '../../src/intake/submit.js';
import type { PriorityClass } from '../../src/pipeline/priority.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { doneChunks, type PipelineQueues } from '../../src/pipeline/queues.js';
import { loadBatch } from '../../src/pipeline/batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import type { TestSimulator } from '../support/simulator.js';
import { expectResultsMatchGroundTruth } from '../support/pipeline.js';
import { startQueuedWorker, type QueuedWorker } from './queued-worker.js';
import { testSubmitter } from './submitter.js';

const POPULATION = { seed: 'intake-priority', size: 5000 };
const SERVICE: Principal = { userId: 'svc-watch', roles: ['tracer'], kind: 'service' };

describe('priority classes on real Redis: interactive batches go ahead of bulk ones', () => {
  let fixture: QueuedWorker;
  let simulator: TestSimulator;
  let queues: PipelineQueues;
  let audit: AuditStore;
  let dir: string;

  beforeAll(async () => {
    // One worker taking one trace job at a time: the order it takes them in is the whole story.
    fixture = await startQueuedWorker('priority', POPULATION, 2);
    ({ simulator, queues, audit, dir } = fixture);
  });
  afterAll(async () => fixture?.close());

  async function submitCohort(name: string, rows: number, priority: PriorityClass): Promise<{ submitted: SubmittedBatch; expectedPath: string }> {
    const cohort = await writeCohort({ ...POPULATION, rows, outDir: dir, name });
    const submitted = await submit(
      { dataDir: `${dir}/data`, provider: smspProvider(simulator.url), duplicateWindowHours: 24 },
      {
        file: cohort.csvPath,
        options: { format: 'native', minimal: false, fallbacks: [], outDir: `${dir}/out`, bom: false, dayFirst: true, chunkSize: 20 },
        priority,
        submitter: testSubmitter(SERVICE, audit),
      },
      queueRunner(`${dir}/data`, queues),
    );
    return { submitted, expectedPath: cohort.expectedPath };
  }

  it('a 200-row interactive batch submitted behind 60 queued bulk chunks finishes first; the bulk batch then finishes too', async () => {
    const bulk = await submitCohort('bulk', 1200, 'bulk');
    // The bulk batch's chunks are all queued, and the worker is busy with them.
    while (bulk.submitted.run.progress.done === 0) await new Promise((r) => setTimeout(r, 50));
    const interactive = await submitCohort('interactive', 200, 'interactive');

    const interactiveMeta = await interactive.submitted.run.finished;
    const bulkState = await loadBatch(`${dir}/data`, bulk.submitted.batch.id);
    const bulkChunksDone = (await doneChunks(`${dir}/data`, bulkState)).size;
    expect(interactiveMeta.state).toBe('assembled');
    expect(bulkState.state).toBe('ingested');
    expect(bulkChunksDone).toBeLessThan(bulkState.chunks!.length);

    // Slowed, never starved: the bulk batch completes, every row traced once, to the ground truth.
    const bulkMeta = await bulk.submitted.run.finished;
    expect(bulkMeta.state).toBe('assembled');
    expectResultsMatchGroundTruth(bulkMeta.outputs!.results, bulk.expectedPath);
    expectResultsMatchGroundTruth(interactiveMeta.outputs!.results, interactive.expectedPath);
  }, 180_000);
});
