import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { AuditStore } from '../../src/audit/store.js';
import type { Principal } from '../../src/auth/authorise.js';
import { loadConfig } from '../../src/config.js';
import { queueRunner } from '../../src/intake/runners.js';
import { submit, type SubmittedBatch } from '../../src/intake/submit.js';
import { createLogger } from '../../src/log.js';
import type { PriorityClass } from '../../src/pipeline/priority.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { doneChunks, openQueues, type PipelineQueues } from '../../src/pipeline/queues.js';
import { withRowLimit } from '../../src/pipeline/strategy.js';
import { loadBatch } from '../../src/pipeline/batch.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { startWorkers, type PipelineWorkers } from '../../jobs/workers.js';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../support/redis.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { expectResultsMatchGroundTruth, openTestAudit, tempDir } from '../support/pipeline.js';
import { testSubmitter } from './submitter.js';

const POPULATION = { seed: 'intake-priority', size: 5000 };
const SERVICE: Principal = { userId: 'svc-watch', roles: ['tracer'], kind: 'service' };

describe('priority classes on real Redis: interactive batches go ahead of bulk ones', () => {
  let simulator: TestSimulator;
  let client: SmspClient;
  let redis: Redis;
  let prefix: string;
  let queues: PipelineQueues;
  let workers: PipelineWorkers;
  let audit: AuditStore;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir('intake-priority');
    simulator = await startTestSimulator({ ...POPULATION, latencyMs: 2 });
    const settings = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: 4, maxRatePerSecond: 2000 };
    client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 4, maxRatePerSecond: 2000 }) });
    redis = connectTestRedis();
    prefix = uniquePrefix('priority');
    queues = openQueues(redis, prefix);
    audit = await openTestAudit(`${dir}/data`);
    // One worker taking one trace job at a time: the order it takes them in is the whole story.
    workers = startWorkers(
      { dataDir: `${dir}/data`, queues, caller: withRowLimit(client, 4), provider: smspProvider(simulator.url), providerHoldMs: 1000, logger: createLogger({ level: 'error' }), audit },
      { connection: redis, prefix, traceConcurrency: 1 },
    );
  });
  afterAll(async () => {
    await workers?.close(5_000);
    await queues?.close();
    await deleteKeys(redis, prefix);
    redis?.disconnect();
    client?.close();
    await audit?.close();
    await simulator?.close();
  });

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
