import type { Redis } from 'ioredis';
import type { AuditStore } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { smspProvider } from '../../src/pipeline/provider.js';
import { openQueues, type PipelineQueues } from '../../src/pipeline/queues.js';
import { withRowLimit } from '../../src/pipeline/strategy.js';
import { createSmspClient } from '../../src/smsp/client.js';
import { startWorkers } from '../../jobs/workers.js';
import { openTestAudit, tempDir } from '../support/pipeline.js';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../support/redis.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

/**
 * What the priority tests trace on: a simulator answering after `latencyMs`, real Redis under a
 * prefix of their own, and one worker process's workers taking one trace job at a time, so the
 * order and moment they take jobs in is what the test sees.
 */
export interface QueuedWorker {
  dir: string;
  simulator: TestSimulator;
  queues: PipelineQueues;
  audit: AuditStore;
  close(): Promise<void>;
}

export async function startQueuedWorker(name: string, population: { seed: string; size: number }, latencyMs: number): Promise<QueuedWorker> {
  const dir = await tempDir(name);
  const simulator = await startTestSimulator({ ...population, latencyMs });
  const settings = { ...loadConfig({}).smsp, url: simulator.url, maxInFlight: 4, maxRatePerSecond: 2000 };
  const client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 4, maxRatePerSecond: 2000 }) });
  const redis: Redis = connectTestRedis();
  const prefix = uniquePrefix(name);
  const queues = openQueues(redis, prefix);
  const audit = await openTestAudit(`${dir}/data`);
  const workers = startWorkers(
    { dataDir: `${dir}/data`, queues, caller: withRowLimit(client, 4), provider: smspProvider(simulator.url), providerHoldMs: 1000, logger: createLogger({ level: 'error' }), audit },
    { connection: redis, prefix, traceConcurrency: 1 },
  );
  return {
    dir,
    simulator,
    queues,
    audit,
    close: async () => {
      await workers.close(5_000);
      await queues.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      client.close();
      await audit.close();
      await simulator.close();
    },
  };
}
