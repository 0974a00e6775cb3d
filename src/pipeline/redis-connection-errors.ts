import { Redis } from 'ioredis';
/** Node and ioredis codes of a Redis that cannot be reached or went away mid-command. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/**
 * Whether an error only says that Redis is not answering (ioredis reconnects on its own), as
 * opposed to a failure of a command or a job. While Redis is down every BullMQ queue and worker
 * connection reports it again on each reconnect attempt, several a second: the process says so
 * once per outage instead (src/cli/redis-runtime.ts), and these are not logged one by one.
 */
export function isRedisConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (e?.code && CONNECTION_CODES.has(e.code)) return true;
  return /^Connection is closed|Socket closed unexpectedly|Stream isn't writeable/i.test(e?.message ?? '');
}

/** A Redis URL without its password, for messages: a line naming REDIS_URL never carries the secret. */
export function redactedRedisUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}

/** What went wrong, in the fewest words: the Node / ioredis code when there is one. */
export function describeRedisError(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

/**
 * One bounded connection, no retries, for a check that must answer within seconds (start-up,
 * `doctor`) rather than wait out an outage. `firstError` is what ioredis reported, which says more
 * than the rejection of `connect()`.
 */
export async function withOneShotRedis<T>(url: string, connectTimeoutMs: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: connectTimeoutMs });
  let firstError: Error | undefined;
  redis.on('error', (err: Error) => {
    firstError ??= err;
  });
  try {
    await redis.connect();
    return await use(redis);
  } catch (err) {
    throw firstError ?? err;
  } finally {
    redis.disconnect();
  }
}
