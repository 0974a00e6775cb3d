import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the tests use: REDIS_URL, or the machine's 127.0.0.1:6379 that .ci/run makes sure of. */
export const TEST_REDIS_URL = process.env.PDS_TRACE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function connectTestRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: false });
}

/** A key prefix no other test uses, so suites never see each other's keys or queues. */
export function uniquePrefix(name: string): string {
  return `pds-trace-test-${name}-${randomUUID().slice(0, 8)}`;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
