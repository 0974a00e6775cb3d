import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LimiterAbortedError, type ReleaseRequest, type RequestLimiter } from './limiter.js';

/**
 * The SMSP request gate shared by every worker process on every machine: the same rules as the
 * local limiter (in flight, starts per sliding second, shared back-off after a busy answer), kept in
 * Redis and decided by Lua scripts on Redis's own clock, so no two processes can both take the
 * last slot and no machine's clock skew matters.
 *
 * Each granted request holds a lease that expires on its own (`leaseTtlMs`), so a worker killed
 * mid-request cannot hold a slot for ever. Within a process only the head of a local queue asks
 * Redis, so waiting requests do not hammer it.
 */

// KEYS: leases (zset member → expiry), starts (zset member → start time), pause (ms timestamp)
// ARGV: maxInFlight, maxRate, windowMs, leaseTtlMs, leaseId
// Returns 0 when granted, -1 when every slot is taken, or the milliseconds to wait.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxInFlight, maxRate, windowMs, leaseTtl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return paused - now end
if redis.call('ZCARD', KEYS[1]) >= maxInFlight then return -1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - windowMs)
if redis.call('ZCARD', KEYS[2]) >= maxRate then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + windowMs - now + 1)
end
redis.call('ZADD', KEYS[1], now + leaseTtl, ARGV[5])
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], leaseTtl * 2)
redis.call('PEXPIRE', KEYS[2], windowMs * 2)
return 0
`;

// KEYS: leases, pause, consecutive busy counter
// ARGV: leaseId, busy (1/0), baseBackoffMs, maxBackoffMs
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local n = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], 60000)
  local pause = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (n - 1))
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if now + pause > current then redis.call('SET', KEYS[2], now + pause, 'PX', pause + 1000) end
else
  redis.call('DEL', KEYS[3])
end
return 0
`;

export interface RedisLimiterOptions {
  redis: Redis;
  /** Key prefix shared by every process that must respect the same limit. */
  prefix: string;
  maxInFlight: number;
  maxRatePerSecond: number;
  /** How long a granted slot is held at most if its holder vanishes; above the request timeout. */
  leaseTtlMs: number;
  busyBackoffMs?: number;
  maxBusyBackoffMs?: number;
  windowSlackMs?: number;
  /** How often the head waiter asks again when every slot is taken. */
  pollMs?: number;
}

type Evaluator = (script: string, keys: string[], args: Array<string | number>) => Promise<number>;

function scriptRunner(redis: Redis): Evaluator {
  const shas = new Map<string, string>();
  return async (script, keys, args) => {
    let sha = shas.get(script);
    if (!sha) {
      sha = (await redis.script('LOAD', script)) as string;
      shas.set(script, sha);
    }
    try {
      return Number(await redis.evalsha(sha, keys.length, ...keys, ...args));
    } catch (err) {
      // Redis restarted empty and forgot the script: load it again once.
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      shas.delete(script);
      return Number(await redis.eval(script, keys.length, ...keys, ...args));
    }
  };
}

export function createRedisLimiter(options: RedisLimiterOptions): RequestLimiter {
  const run = scriptRunner(options.redis);
  const keys = {
    leases: `${options.prefix}:smsp-limit:leases`,
    starts: `${options.prefix}:smsp-limit:starts`,
    pause: `${options.prefix}:smsp-limit:pause`,
    busy: `${options.prefix}:smsp-limit:busy`,
  };
  const windowMs = 1000 + (options.windowSlackMs ?? 50);
  const pollMs = options.pollMs ?? 2;
  const queue: Array<{ grant: (leaseId: string) => void; fail: (err: Error) => void; signal?: AbortSignal }> = [];
  let pumping = false;

  const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) {
        const head = queue[0]!;
        if (head.signal?.aborted) {
          queue.shift();
          head.fail(new LimiterAbortedError('aborted while waiting for the SMSP limit'));
          continue;
        }
        const leaseId = randomUUID();
        let answer: number;
        try {
          answer = await run(ACQUIRE, [keys.leases, keys.starts, keys.pause], [
            options.maxInFlight, options.maxRatePerSecond, windowMs, options.leaseTtlMs, leaseId,
          ]);
        } catch {
          // Redis unreachable: keep the request waiting rather than exceed a limit we cannot see.
          await wait(250);
          continue;
        }
        if (answer === 0) {
          queue.shift();
          if (head.signal?.aborted) {
            // Granted after the caller gave up: hand the slot straight back.
            await run(RELEASE, [keys.leases, keys.pause, keys.busy], [leaseId, 0, 0, 0]).catch(() => undefined);
            head.fail(new LimiterAbortedError('aborted while waiting for the SMSP limit'));
            continue;
          }
          head.grant(leaseId);
        } else {
          await wait(answer < 0 ? pollMs : Math.min(answer, 1000));
        }
      }
    } finally {
      pumping = false;
    }
  }

  return {
    acquire(signal?: AbortSignal): Promise<ReleaseRequest> {
      return new Promise<ReleaseRequest>((resolve, reject) => {
        if (signal?.aborted) return reject(new LimiterAbortedError('aborted before start'));
        const onAbort = () => {
          const i = queue.indexOf(entry);
          if (i > 0) {
            // The head is mid-request to Redis; pump() drops it when it sees the signal.
            queue.splice(i, 1);
            reject(new LimiterAbortedError('aborted while waiting for the SMSP limit'));
          }
        };
        const entry = {
          signal,
          fail: reject,
          grant: (leaseId: string) => {
            signal?.removeEventListener('abort', onAbort);
            let released = false;
            resolve((result) => {
              if (released) return;
              released = true;
              void run(RELEASE, [keys.leases, keys.pause, keys.busy], [
                leaseId, result.busy ? 1 : 0, options.busyBackoffMs ?? 500, options.maxBusyBackoffMs ?? 10_000,
              ]).catch(() => {
                // The lease expires by itself if Redis cannot be told.
              });
            });
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(entry);
        void pump();
      });
    },
  };
}
