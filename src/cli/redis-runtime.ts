import type { PdsTraceMetrics } from '../metrics/registry.js';
import { withLimiterMetrics, withSmspMetrics } from '../metrics/smsp-metrics.js';
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
import { formatDuration } from './progress-bar.js';
import { describeRedisError, isRedisConnectionError, redactedRedisUrl, withOneShotRedis } from '../pipeline/redis-connection-errors.js';

export interface RedisRuntime {
  redis: Redis;
  queues: PipelineQueues;
  close(): Promise<void>;
}

/** How long a command waits for Redis to answer at start before it says so and ends. */
const REDIS_START_TIMEOUT_MS = 5_000;

export async function openRedisRuntime(config: Config): Promise<RedisRuntime> {
  if (!config.redisUrl) throw new CliError('REDIS_URL is not set: this command needs the BullMQ runner', EXIT.config);
  await checkRedisAnswers(config.redisUrl);
  // Workers block on Redis: BullMQ requires maxRetriesPerRequest null on their connections, so
  // commands wait through an outage instead of failing.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const out = process.stderr;
  const outage = new RedisOutageNotice(redactedRedisUrl(config.redisUrl), out);
  redis.on('error', (err: Error) => outage.lost(err));
  redis.on('ready', () => outage.back());
  const queues = openQueues(redis, config.redisPrefix);
  // A queue with no listener prints every reconnect failure as a stack (BullMQ's QueueBase.emit).
  for (const queue of [queues.ingest, queues.trace, queues.assemble]) {
    queue.on('error', (err: Error) => (isRedisConnectionError(err) ? outage.lost(err) : out.write(`pds-trace: queue ${queue.name}: ${err.message}\n`)));
  }
  return {
    redis,
    queues,
    close: async () => {
      await queues.close();
      redis.disconnect();
    },
  };
}

/**
 * One line when Redis stops answering and one when it answers again, however many connections
 * (this process's own, each BullMQ queue's and worker's) fail and retry meanwhile: with REDIS_URL
 * down, ioredis reports every reconnect attempt on every connection, a flood that buried the one
 * thing to know.
 */
class RedisOutageNotice {
  #since: number | undefined;

  constructor(
    private readonly url: string,
    private readonly out: { write(text: string): unknown },
  ) {}

  lost(err: Error): void {
    if (this.#since !== undefined) return;
    this.#since = Date.now();
    this.out.write(`pds-trace: Redis at REDIS_URL ${this.url} not answering (${describeRedisError(err)}); retrying until it answers\n`);
  }

  back(): void {
    if (this.#since === undefined) return;
    const seconds = Math.round((Date.now() - this.#since) / 1000);
    this.#since = undefined;
    this.out.write(`pds-trace: Redis at REDIS_URL ${this.url} answering again (after ${formatDuration(seconds)})\n`);
  }
}

/**
 * One bounded attempt before anything is submitted: with REDIS_URL pointing at nothing, a
 * connection that retries for ever left `trace` and `worker` printing ioredis errors every two
 * seconds and never ending. Now the command ends within seconds, naming the setting to check.
 */
export async function checkRedisAnswers(url: string): Promise<void> {
  try {
    await withOneShotRedis(url, REDIS_START_TIMEOUT_MS, (redis) => redis.ping());
  } catch (err) {
    throw new CliError(`Redis does not answer at REDIS_URL ${redactedRedisUrl(url)} (${describeRedisError(err as Error)}): check REDIS_URL and that Redis is running`, EXIT.config);
  }
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
  metrics?: PdsTraceMetrics,
): Promise<LocalWorkers> {
  const limiter = sharedSmspLimiter(config, runtime);
  const smsp = await connectSmsp(config, provider, logger, metrics ? withLimiterMetrics(limiter, metrics) : limiter);
  if (smsp.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
  const workers = startWorkers(
    {
      dataDir: config.dataDir,
      queues: runtime.queues,
      caller: withRowLimit(metrics ? withSmspMetrics(smsp.client, metrics) : smsp.client, config.smsp.maxInFlight),
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
