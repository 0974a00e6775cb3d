import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/store.js';
import type { Principal } from '../../src/auth/authorise.js';
import { queueRunner } from '../../src/intake/runners.js';
import { submit, type SubmittedBatch } from '../../src/intake/submit.js';
import { loadBatch } from '../../src/pipeline/batch.js';
import type { PriorityClass } from '../../src/pipeline/priority.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { doneChunks, type PipelineQueues } from '../../src/pipeline/queues.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { expectResultsMatchGroundTruth } from '../support/pipeline.js';
import type { TestSimulator } from '../support/simulator.js';
import { startQueuedWorker, type QueuedWorker } from './queued-worker.js';
import { testSubmitter } from './submitter.js';

/**
 * An analyst's chunk does not wait for a worker's running bulk chunks to end (issue 16): a worker
 * takes one trace job more than the bulk chunks it traces, and the bulk job holding that slot gives
 * it back as soon as an interactive job waits, so the interactive chunk starts at once, beside them.
 */

const POPULATION = { seed: 'trace-slots', size: 3000 };
const SERVICE: Principal = { userId: 'svc-watch', roles: ['tracer'], kind: 'service' };

describe('trace slots by priority class, on real Redis', () => {
  let fixture: QueuedWorker;
  let simulator: TestSimulator;
  let queues: PipelineQueues;
  let audit: AuditStore;
  let dir: string;

  beforeAll(async () => {
    // Slow answers: a 300-row bulk chunk takes seconds, a 20-row interactive one a fraction of that.
    fixture = await startQueuedWorker('trace-slots', POPULATION, 40);
    ({ simulator, queues, audit, dir } = fixture);
  });
  afterAll(async () => fixture?.close());

  async function submitCohort(name: string, rows: number, priority: PriorityClass, chunkSize: number): Promise<{ submitted: SubmittedBatch; expectedPath: string }> {
    const cohort = await writeCohort({ ...POPULATION, rows, outDir: dir, name });
    const submitted = await submit(
      { dataDir: `${dir}/data`, provider: smspProvider(simulator.url), duplicateWindowHours: 24 },
      { file: cohort.csvPath, options: { format: 'native', minimal: false, fallbacks: [], outDir: `${dir}/out-${name}`, bom: false, dayFirst: true, chunkSize }, priority, submitter: testSubmitter(SERVICE, audit) },
      queueRunner(`${dir}/data`, queues),
    );
    return { submitted, expectedPath: cohort.expectedPath };
  }

  it('runs an interactive chunk beside the running bulk chunk, not after it; the bulk batch then finishes too', async () => {
    const bulk = await submitCohort('bulk', 900, 'bulk', 300);
    // The first bulk chunk is under way, the next is held ready in the spare slot.
    while (bulk.submitted.run.progress.done === 0) await new Promise((r) => setTimeout(r, 20));
    const interactive = await submitCohort('interactive', 20, 'interactive', 500);

    const interactiveMeta = await interactive.submitted.run.finished;
    const bulkState = await loadBatch(`${dir}/data`, bulk.submitted.batch.id);
    expect(interactiveMeta.state).toBe('assembled');
    // Not one bulk chunk ended meanwhile: the interactive chunk did not wait for a slot to free.
    expect((await doneChunks(`${dir}/data`, bulkState)).size).toBe(0);

    const bulkMeta = await bulk.submitted.run.finished;
    expect(bulkMeta.state).toBe('assembled');
    expectResultsMatchGroundTruth(bulkMeta.outputs!.results, bulk.expectedPath);
    expectResultsMatchGroundTruth(interactiveMeta.outputs!.results, interactive.expectedPath);
  }, 180_000);
});
