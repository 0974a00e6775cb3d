import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { openScheduleQueue } from '../intake/schedules/schedule-queue.js';
import { openQueues } from '../pipeline/queues.js';
import { describeRedisError } from '../pipeline/redis-connection-errors.js';

/**
 * The deployment's queues as `serve` looks at them (the queue dashboard, the queues page): the
 * pipeline's `ingest`, `trace` and `assemble` and the schedules' `schedule`, on one Redis
 * connection opened once per app, when REDIS_URL is set, and closed with the app.
 */
export interface WebQueues {
  /** In the order pages list them: a batch's way through, then the schedules. */
  all: ReadonlyArray<Queue>;
  /**
   * Why Redis is not answering, while it is not (the last connection error since it last did);
   * undefined while it answers or has not yet been reached.
   */
  outage(): string | undefined;
}

const opened = new WeakMap<FastifyInstance, WebQueues>();

export function webQueues(app: FastifyInstance, config: Readonly<Config>): WebQueues | undefined {
  if (!config.redisUrl) return undefined;
  const existing = opened.get(app);
  if (existing) return existing;
  // Fails a request within a reconnect rather than holding it through an outage.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
  let lastError: string | undefined;
  redis.on('error', (err: Error) => {
    lastError = describeRedisError(err);
  });
  redis.on('ready', () => {
    lastError = undefined;
  });
  const pipeline = openQueues(redis, config.redisPrefix);
  const schedule = openScheduleQueue(redis, config.redisPrefix);
  const all = [pipeline.ingest, pipeline.trace, pipeline.assemble, schedule] as Queue[];
  // Reported by the connection above, once; a queue with no listener prints each retry as a stack.
  for (const queue of all) queue.on('error', () => undefined);
  app.addHook('onClose', async () => {
    await Promise.all([pipeline.close(), schedule.close()]).catch(() => undefined);
    redis.disconnect();
  });
  const queues: WebQueues = { all, outage: () => (redis.status === 'ready' ? undefined : lastError) };
  opened.set(app, queues);
  return queues;
}
