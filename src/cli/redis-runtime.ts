import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { AuditSink } from '../pipeline/audit-sink.js';
import type { RequestLimiter } from '../pipeline/limiter.js';
import type { Provider } from '../pipeline/provider.js';
import { createRedisLimiter } from '../pipeline/redis-limiter.js';
import { withRowLimit } from '../pipeline/strategy.js';
import { openQueues, type PipelineQueues } from '../pipeline/queues.js';
import { startWorkers, type PipelineWorkers } from '../../jobs/workers.js';
import { connectSmsp, SIMULATOR_NOTICE, type SmspConnection } from './smsp-connection.js';
import { CliError, EXIT } from './errors.js';

export interface RedisRuntime {
  redis: Redis;
  queues: PipelineQueues;
  close(): Promise<void>;
}

export async function openRedisRuntime(config: Config): Promise<RedisRuntime> {
  if (!config.redisUrl) throw new CliError('REDIS_URL is not set: this command needs the BullMQ runner', EXIT.config);
  // Workers block on Redis: BullMQ requires maxRetriesPerRequest null on their connections.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  try {
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new CliError(`Redis at REDIS_URL does not answer (${(err as Error).message})`, EXIT.failure);
  }
  const queues = openQueues(redis, config.redisPrefix);
  return {
    redis,
    queues,
    close: async () => {
      await queues.close();
      redis.disconnect();
    },
  };
}

export interface LocalWorkers {
  smsp: SmspConnection;
  workers: PipelineWorkers;
  close(timeoutMs?: number): Promise<void>;
}

/** The SMSP limit every process of this deployment shares through Redis. */
export function sharedSmspLimiter(config: Config, runtime: RedisRuntime): RequestLimiter {
  return createRedisLimiter({
    redis: runtime.redis,
    prefix: config.redisPrefix,
    maxInFlight: config.smsp.maxInFlight,
    maxRatePerSecond: config.smsp.maxRatePerSecond,
    windowSlackMs: config.smsp.rateSlackMs,
    // A request's lease outlives its timeout and all its retries' waits.
    leaseTtlMs: config.smsp.timeoutMs * 2 + 5_000,
  });
}

/**
 * Starts this process's ingest, trace and assemble workers, calling SMSP under the Redis-held limit.
 * Its trace workers take only batches for `provider` (from configuredProvider); others wait.
 */
export async function startLocalWorkers(
  config: Config,
  logger: Logger,
  runtime: RedisRuntime,
  traceConcurrency: number,
  audit: AuditSink,
  provider: Provider,
): Promise<LocalWorkers> {
  const smsp = await connectSmsp(config, provider, logger, sharedSmspLimiter(config, runtime));
  if (smsp.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
  const workers = startWorkers(
    {
      dataDir: config.dataDir,
      queues: runtime.queues,
      caller: withRowLimit(smsp.client, config.smsp.maxInFlight),
      provider,
      providerHoldMs: config.jobs.providerHoldMs,
      logger,
      audit,
    },
    {
      connection: runtime.redis,
      prefix: config.redisPrefix,
      traceConcurrency,
      lockDurationMs: config.jobs.lockMs,
      stalledIntervalMs: config.jobs.stalledIntervalMs,
    },
  );
  return {
    smsp,
    workers,
    close: async (timeoutMs) => {
      await workers.close(timeoutMs);
      await smsp.close();
    },
  };
}
