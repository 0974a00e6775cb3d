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
