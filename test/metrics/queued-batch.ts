import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { AuditStore } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import { queueRunner } from '../../src/intake/runners.js';
import { submit } from '../../src/intake/submit.js';
import { createLogger } from '../../src/log.js';
import { withAuditMetrics } from '../../src/metrics/audit-metrics.js';
import { countAssembledBatches } from '../../src/metrics/batch-metrics.js';
import { addQueueDepth } from '../../src/metrics/queue-metrics.js';
import { createMetrics, type PdsTraceMetrics } from '../../src/metrics/registry.js';
import { withLimiterMetrics, withSmspMetrics } from '../../src/metrics/smsp-metrics.js';
import type { BatchMeta } from '../../src/pipeline/batch.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import type { WayIn } from '../../src/pipeline/priority.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { openQueues, QUEUE_NAMES, type PipelineQueues } from '../../src/pipeline/queues.js';
import { withRowLimit } from '../../src/pipeline/strategy.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient } from '../../src/smsp/client.js';
import { startWorkers } from '../../jobs/workers.js';
import { testSubmitter } from '../intake/submitter.js';
import { openTestAudit, tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../support/redis.js';
import { startTestSimulator } from '../support/simulator.js';

const POPULATION = { seed: 'ops-metrics', size: 3000 };

export interface QueuedBatch {
  meta: BatchMeta;
  /** The synthetic input, as submitted. */
  cohortCsv: string;
  /** Rows by final status, from the batch's summary. */
  byStatus: Record<string, number>;
  metrics: PdsTraceMetrics;
  redis: Redis;
  queues: PipelineQueues;
  prefix: string;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A synthetic cohort traced as a worker traces it: submitted through the intake to real BullMQ
 * queues, worked by the pipeline's workers against the simulator over mutual TLS, everything
 * counted into one metrics registry as `pds-trace worker` counts it.
 */
export async function traceThroughQueues(options: { name: string; rows: number; wayIn: WayIn }): Promise<QueuedBatch> {
  const dir = await tempDir(`ops-${options.name}`);
  const dataDir = path.join(dir, 'data');
  const metrics = createMetrics();
  const simulator = await startTestSimulator({ ...POPULATION, latencyMs: 1 });
  const settings = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: 4, maxRatePerSecond: 2000 };
  const limiter = withLimiterMetrics(createLocalLimiter({ maxInFlight: 4, maxRatePerSecond: 2000 }), metrics);
  const client = await createSmspClient(settings, { tls: simulator.clientTls, limiter });
  const redis = connectTestRedis();
  const prefix = uniquePrefix(`ops-${options.name}`);
  const queues = openQueues(redis, prefix);
  addQueueDepth(metrics, queues);
  const audit: AuditStore = withAuditMetrics(await openTestAudit(dataDir), metrics);
  const provider = smspProvider(simulator.url);
  const workers = startWorkers(
    { dataDir, queues, caller: withRowLimit(withSmspMetrics(client, metrics), 4), provider, providerHoldMs: 1000, logger: createLogger({ level: 'error' }), audit },
    { connection: redis, prefix, traceConcurrency: 2 },
  );
  countAssembledBatches(metrics, workers.workers.find((w) => w.name === QUEUE_NAMES.assemble)!, dataDir);
  const close = async () => {
    await workers.close(5_000);
    await queues.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    client.close();
    await audit.close();
    await simulator.close();
  };
  try {
    const cohort = await writeCohort({ ...POPULATION, rows: options.rows, outDir: dir, name: options.name });
    const submitted = await submit(
      { dataDir, provider, duplicateWindowHours: 24 },
      {
        file: cohort.csvPath,
        options: { format: 'native', minimal: false, fallbacks: [], outDir: path.join(dir, 'out'), bom: false, dayFirst: true, chunkSize: 10 },
        wayIn: options.wayIn,
        submitter: testSubmitter({ userId: 'svc-ops', roles: ['tracer'], kind: 'service' }, audit),
      },
      queueRunner(dataDir, queues),
    );
    const meta = await submitted.run.finished;
    const summary = JSON.parse(await readFile(meta.outputs!.summaryJson, 'utf8')) as { byStatus: Record<string, number> };
    return { meta, cohortCsv: cohort.csvPath, byStatus: summary.byStatus, metrics, redis, queues, prefix, dataDir, close };
  } catch (err) {
    await close();
    throw err;
  }
}
