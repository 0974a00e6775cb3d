import type { Redis } from 'ioredis';
import { describeRedisError, redactedRedisUrl, withOneShotRedis } from '../pipeline/redis-connection-errors.js';
import { openQueues, QUEUE_NAMES, type QueueName } from '../pipeline/queues.js';
import { queueHealth } from '../pipeline/queue-health.js';
import { fail, pass, skip, warn, worstOf, type CheckOutcome, type DoctorCheck } from './check.js';

/** BullMQ needs Redis 5 at least and recommends 6.2 (its Lua scripts use newer commands). */
const REDIS_REQUIRED = [5, 0, 0] as const;
const REDIS_RECOMMENDED = [6, 2, 0] as const;

const NO_REDIS = 'no REDIS_URL: commands trace in their own process (embedded runner), no workers needed';

function versionAtLeast(version: string, wanted: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < wanted.length; i++) {
    if ((parts[i] ?? 0) !== wanted[i]) return (parts[i] ?? 0) > wanted[i]!;
  }
  return true;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** One connection attempt, no retries: the doctor reports an outage, it does not wait it out. */
function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  return withOneShotRedis(url, 5_000, use);
}

function unreachable(url: string, err: Error): CheckOutcome {
  return fail(`nothing answers at REDIS_URL ${redactedRedisUrl(url)} (${describeRedisError(err)})`, 'Start Redis, or correct REDIS_URL (host, port, password, rediss:// for TLS).');
}

export const redisCheck: DoctorCheck = {
  name: 'redis',
  title: 'Redis',
  async run({ config }) {
    const url = config!.redisUrl;
    if (!url) return skip(NO_REDIS);
    try {
      return await withRedis(url, async (redis) => {
        const [server, memory] = await Promise.all([redis.info('server'), redis.info('memory')]);
        const version = infoField(server, 'redis_version') ?? '0';
        const policy = infoField(memory, 'maxmemory_policy') ?? 'unknown';
        const findings: CheckOutcome[] = [];
        if (!versionAtLeast(version, REDIS_REQUIRED)) findings.push(fail(`Redis ${version} is older than BullMQ supports (5.0)`, 'Upgrade Redis to 6.2 or later.'));
        else if (!versionAtLeast(version, REDIS_RECOMMENDED)) findings.push(warn(`Redis ${version}: BullMQ recommends 6.2 or later`, 'Upgrade Redis to 6.2 or later when you can.'));
        else findings.push(pass(`Redis ${version} at ${redactedRedisUrl(url)}`));
        findings.push(
          policy === 'noeviction'
            ? pass('maxmemory-policy noeviction')
            : fail(`maxmemory-policy is ${policy}: Redis may evict queue keys and lose jobs`, 'Set `maxmemory-policy noeviction` in redis.conf (or `CONFIG SET maxmemory-policy noeviction`), as BullMQ requires.'),
        );
        return worstOf(findings);
      });
    } catch (err) {
      return unreachable(url, err as Error);
    }
  },
};

export const workersCheck: DoctorCheck = {
  name: 'workers',
  title: 'Workers',
  async run({ config }) {
    const url = config!.redisUrl;
    if (!url) return skip(NO_REDIS);
    try {
      return await withRedis(url, async (redis) => {
        const queues = openQueues(redis, config!.redisPrefix);
        try {
          const names = Object.keys(QUEUE_NAMES) as QueueName[];
          const rows = await Promise.all(
            names.map(async (name) => {
              const { workers, counts } = await queueHealth(queues[name]);
              // A paused queue's jobs wait too: for a worker, and for someone to resume it.
              return { name, workers, waiting: counts.waiting + counts.paused, active: counts.active };
            }),
          );
          const traceRow = rows.find((r) => r.name === 'trace')!;
          const waiting = rows.reduce((n, r) => n + r.waiting, 0);
          const line = rows.map((r) => `${r.name}: ${r.workers} worker${r.workers === 1 ? '' : 's'}, ${r.active} active, ${r.waiting} waiting`).join('; ');
          if (traceRow.workers === 0 && waiting > 0) return fail(`${waiting} jobs waiting and no worker: ${line}`, 'Start workers with `pds-trace worker` (or `docker compose up -d worker`).');
          if (traceRow.workers === 0) return warn(`no worker is running (${line})`, 'Batches submitted with REDIS_URL wait until `pds-trace worker` runs somewhere.');
          if (waiting > 0 && rows.every((r) => r.active === 0)) {
            return warn(`jobs wait but none is active: ${line}`, 'Workers may be held for another provider or stuck: see `pds-trace status` and the worker logs.');
          }
          return pass(line);
        } finally {
          await queues.close();
        }
      });
    } catch (err) {
      return unreachable(url, err as Error);
    }
  },
};
