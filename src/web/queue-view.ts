import type { Config } from '../config.js';
import { batchBacklog } from '../pipeline/batch-backlog.js';
import { queueHealth, type QueueHealth } from '../pipeline/queue-health.js';
import { isRedisConnectionError, redactedRedisUrl } from '../pipeline/redis-connection-errors.js';
import { TimedOutError, withinTime } from '../pipeline/within-time.js';
import type { WebQueues } from './queue-connection.js';

/**
 * What `GET /api/queues` and the `/queues` page say: each queue's jobs by state, whether it is
 * paused and its workers (queue-health.ts, as `pds-trace doctor` reads them), the SMSP limit this
 * deployment is configured with, and the batches not finished (batch-backlog.ts). Counts, flags
 * and batch ids: nothing of any row, file name or job's data.
 */

/** How long the page waits for Redis before it says Redis is not answering. */
const REDIS_WAIT_MS = 2_000;

/** What an operator reads first about a queue: held by a pause, nobody to take its jobs, or working. */
export type QueueState = 'paused' | 'no_workers' | 'running';

export interface QueueStatus extends QueueHealth {
  state: QueueState;
}

interface Common {
  /** SMSP_MAX_RATE and SMSP_MAX_IN_FLIGHT: with the queues, shared by every worker through Redis. */
  smspLimit: { maxRatePerSecond: number; maxInFlight: number; sharedByWorkers: boolean };
  batches: { unfinished: { count: number; ids: string[] }; held: { count: number; ids: string[] } };
  checkedAt: string;
}

export type QueuesView = ({ mode: 'queues'; queues: QueueStatus[] } | { mode: 'embedded'; message: string }) & Common;

export const EMBEDDED_MESSAGE = 'No queues: REDIS_URL is not set, so this service traces uploads in its own process (the embedded runner), with no workers.';

/** Redis did not answer: the queues cannot be read. The message names REDIS_URL, its password hidden. */
export class QueuesUnreachableError extends Error {
  override readonly name = 'QueuesUnreachableError';
  readonly code = 'redis_unreachable';
  constructor(redisUrl: string, why: string) {
    super(`Redis at REDIS_URL ${redactedRedisUrl(redisUrl)} is not answering (${why}), so the queues cannot be shown. Check REDIS_URL and that Redis is running.`);
  }
}

function stateOf(health: QueueHealth): QueueState {
  if (health.paused) return 'paused';
  return health.workers === 0 ? 'no_workers' : 'running';
}

async function readQueues(config: Readonly<Config>, queues: WebQueues): Promise<QueueStatus[]> {
  // An outage already seen is said at once: a page polling every few seconds must not pile up
  // reads that wait for Redis to come back.
  const outage = queues.outage();
  if (outage) throw new QueuesUnreachableError(config.redisUrl!, outage);
  try {
    const health = await withinTime(Promise.all(queues.all.map(queueHealth)), REDIS_WAIT_MS, `no answer within ${REDIS_WAIT_MS / 1000} s`);
    return health.map((h) => ({ ...h, state: stateOf(h) }));
  } catch (err) {
    // Anything else is a fault of ours or of a command, not Redis being away: a 500, not a 503.
    const why = queues.outage() ?? (err instanceof TimedOutError || isRedisConnectionError(err) ? (err as Error).message : undefined);
    if (why === undefined) throw err;
    throw new QueuesUnreachableError(config.redisUrl!, why);
  }
}

export async function viewQueues(config: Readonly<Config>, queues: WebQueues | undefined, now: Date): Promise<QueuesView> {
  const [read, backlog] = await Promise.all([queues ? readQueues(config, queues) : undefined, batchBacklog(config.dataDir)]);
  const common: Common = {
    smspLimit: { maxRatePerSecond: config.smsp.maxRatePerSecond, maxInFlight: config.smsp.maxInFlight, sharedByWorkers: read !== undefined },
    batches: {
      unfinished: { count: backlog.unfinished.length, ids: backlog.unfinished },
      held: { count: backlog.held.length, ids: backlog.held },
    },
    checkedAt: now.toISOString(),
  };
  return read ? { mode: 'queues', queues: read, ...common } : { mode: 'embedded', message: EMBEDDED_MESSAGE, ...common };
}
