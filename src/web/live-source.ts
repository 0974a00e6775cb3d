import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { redisLiveProgress, type LiveProgress, type LiveProgressRedis } from '../pipeline/live-progress.js';

/**
 * The rows workers report as they trace (live-progress.ts), for the batch page to move row by row
 * rather than chunk by chunk, when the deployment has Redis (REDIS_URL). Reading it is advisory:
 * a Redis that does not answer leaves the page counting from the batch folder alone.
 */
export function openLiveProgress(config: Readonly<Config>): { live: LiveProgress; close(): void } | undefined {
  if (!config.redisUrl) return undefined;
  // Fail a read fast rather than queue it through an outage: the folder still gives the counts.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  redis.on('error', () => undefined);
  return { live: redisLiveProgress(redis as unknown as LiveProgressRedis, config.redisPrefix), close: () => redis.disconnect() };
}
