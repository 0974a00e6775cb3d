import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { grantHandle, LimiterAbortedError, type ReleaseRequest, type RequestLimiter } from './limiter.js';
import { PriorityLine } from './priority.js';
import { limitKeys, POLL_SOON, TRADE } from './redis-limit-script.js';
import { onAbort } from '../smsp/on-abort.js';

/**
 * The SMSP request gate shared by every worker process on every machine: the same rules as the
 * local limiter (in flight, starts per sliding second, shared back-off after a busy answer), kept in
 * Redis and decided by one Lua script on Redis's own clock (redis-limit-script.ts), so no two
 * processes can both take the last slot and no machine's clock skew matters.
 *
 * Each granted request holds a lease that expires on its own (`leaseTtlMs`), so a worker killed
 * mid-request cannot hold a slot for ever.
 *
 * Redis is kept off the path from one answer to the next request. A process sends its finished
 * leases, the starts it made and the new leases it wants in one call; while requests are waiting it
 * holds permits to start the next one on a lease the moment the last one finishes, and reports the
 * start a few milliseconds later with others. (One Lua call per acquire and per release, and a 2 ms
 * poll while every slot was taken, cost a third of a worker's CPU and a tenth of the throughput.)
 * A process holding fewer than an even share of the slots may always take one; beyond that, a slot
 * goes to the waiting process holding the fewest, and between equals to the one served least
 * recently: slots are shared evenly, and take turns when more processes wait than there are slots.
 * Priority classes (priority.ts) come first: within a process its interactive requests are granted
 * before its bulk ones, and a process with interactive requests waiting is the only kind that
 * gets slots while it waits, so an analyst's batch takes the whole limit from bulk ones.
 */

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
  /** How often a process asks again while a slot should come free for it. Default 2 ms. */
  pollMs?: number;
  /** How often any other waiting process asks again anyway (its own finished requests normally wake it). Default 50 ms. */
  idlePollMs?: number;
  /** How long starts made on permits wait to be reported together. Default 5 ms. */
  reportMs?: number;
}

/** How long a process counts as waiting after it last asked: long enough to outlast a poll gap. */
const DEMAND_TTL_MS = 2_000;
/** While Redis cannot be reached, waiting requests stay waiting (a limit we cannot see is not exceeded). */
const UNREACHABLE_RETRY_MS = 250;

type Evaluator = (script: string, keys: string[], args: Array<string | number>) => Promise<unknown>;

function scriptRunner(redis: Redis): Evaluator {
  const shas = new Map<string, string>();
  return async (script, keys, args) => {
    let sha = shas.get(script);
    if (!sha) {
      sha = (await redis.script('LOAD', script)) as string;
      shas.set(script, sha);
    }
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      // Redis restarted empty and forgot the script: load it again once.
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      shas.delete(script);
      return redis.eval(script, keys.length, ...keys, ...args);
    }
  };
}

interface Waiter {
  grant: (lease: string, sent: () => void) => void;
  fail: (err: Error) => void;
  signal?: AbortSignal;
}

const aborted = () => new LimiterAbortedError('aborted while waiting for the SMSP limit');

export function createRedisLimiter(options: RedisLimiterOptions): RequestLimiter {
  const run = scriptRunner(options.redis);
  const keys = redisLimiterKeys(options.prefix);
  // Leases are `owner:n`, starts on a permit `owner:n#m`: the owner tells Redis whose slot a lease is.
  const owner = randomUUID();
  const fixedArgs = [
    owner,
    options.maxInFlight,
    options.maxRatePerSecond,
    1000 + (options.windowSlackMs ?? 50),
    options.leaseTtlMs,
    options.busyBackoffMs ?? 500,
    options.maxBusyBackoffMs ?? 10_000,
    DEMAND_TTL_MS,
  ];
  const pollMs = options.pollMs ?? 2;
  const idlePollMs = options.idlePollMs ?? 50;
  const reportMs = options.reportMs ?? 5;

  /** Requests waiting for a slot, interactive batches' first (priority.ts). */
  const queue = new PriorityLine<Waiter>();
  /** Leases of this process's requests in flight. */
  const held = new Set<string>();
  /** Held leases on which the next request may start without asking first. */
  const permitted = new Set<string>();
  /** What the next call tells Redis: finished requests, starts made on permits, permits not wanted. */
  let finished: Array<{ lease: string; busy: boolean }> = [];
  let restarted: string[] = [];
  /** Starts to count again from now: their requests went out later than they were granted. */
  let restamped: string[] = [];
  let unusedPermits: string[] = [];
  let nextLease = 0;
  let nextStart = 0;
  /** Whether Redis counts this process as waiting (so it must be told when that stops). */
  let demandRegistered = false;
  let calling = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let reportTimer: NodeJS.Timeout | undefined;

  /**
   * Asks Redis at the end of this turn of the event loop, unless a call is already due or out (its
   * answer leads to the next one): whatever happens in the same turn goes in one call.
   */
  function wake(): void {
    if (calling) return;
    clearTimeout(pollTimer);
    clearTimeout(reportTimer);
    pollTimer = reportTimer = undefined;
    calling = true;
    setImmediate(() => {
      void trade().finally(() => {
        calling = false;
        // Requests granted in that call may have finished, or new ones arrived, before this ran:
        // their wake() found the call still out.
        if (finished.length > 0 || (queue.length > 0 && pollTimer === undefined)) wake();
        else if (hasReports()) reportSoon();
      });
    });
  }

  /**
   * Starts made on permits are reported a little later, several at once: nothing waits for that.
   * While a call is out, its end schedules the report (`fromCall`).
   */
  function reportSoon(fromCall = false): void {
    if ((calling && !fromCall) || reportTimer !== undefined) return;
    reportTimer = setTimeout(() => {
      reportTimer = undefined;
      wake();
    }, reportMs);
  }

  function pollIn(ms: number): void {
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      wake();
    }, ms);
  }

  async function trade(): Promise<void> {
    for (;;) {
      dropAbortedWaiters();
      const giveBack = finished;
      const starts = restarted;
      const stamps = restamped;
      const handBack = unusedPermits;
      finished = [];
      restarted = [];
      restamped = [];
      unusedPermits = [];
      const wanted = Math.min(queue.length, options.maxInFlight);
      const candidates = wanted > 0 ? [...held].filter((lease) => !permitted.has(lease)) : [];
      if (giveBack.length === 0 && starts.length === 0 && stamps.length === 0 && handBack.length === 0 && wanted === 0 && !demandRegistered) return;
      const first = nextLease;
      // Numbers are never reused, even when a call fails after Redis ran it.
      nextLease += wanted;
      demandRegistered = wanted > 0;
      let reply: unknown[];
      try {
        reply = (await run(TRADE, keys, [
          ...fixedArgs,
          queue.urgent ? 1 : 0,
          starts.length,
          ...starts,
          stamps.length,
          ...stamps,
          giveBack.length,
          ...giveBack.flatMap((f) => [f.lease, f.busy ? 1 : 0]),
          handBack.length,
          ...handBack,
          candidates.length,
          ...candidates,
          wanted,
          first,
        ])) as unknown[];
      } catch {
        // Told again next time (each is harmless twice). Waiters wait: a limit we cannot see is not exceeded.
        finished = [...giveBack, ...finished];
        restarted = [...starts, ...restarted];
        restamped = [...stamps, ...restamped];
        unusedPermits = [...handBack, ...unusedPermits];
        pollIn(UNREACHABLE_RETRY_MS);
        return;
      }
      const granted = Number(reply[0]);
      const hint = Number(reply[1]);
      for (let i = 0; i < granted; i++) {
        const lease = `${owner}:${first + i}`;
        const waiter = nextWaiter();
        // Granted after every waiter gave up: hand the slot straight back.
        if (waiter === undefined) finished.push({ lease, busy: false });
        else start(waiter, lease);
      }
      if (Number(reply[2]) === 1) stopUsingPermits();
      for (const lease of reply.slice(3) as string[]) if (held.has(lease)) permitted.add(lease);
      dropAbortedWaiters();
      if (finished.length > 0) continue;
      if (queue.length === 0) {
        if (demandRegistered) continue; // tell Redis this process no longer waits
        if (hasReports()) reportSoon(true);
        return;
      }
      if (granted === wanted) continue; // more arrived while asking
      if (hasReports()) reportSoon(true);
      pollIn(hint > 0 ? Math.min(hint, 1000) : hint === POLL_SOON ? pollMs : idlePollMs);
      return;
    }
  }

  /** `member` is the start counted in the rate window: the lease, or `lease#n` for a start on a permit. */
  function start(waiter: Waiter, lease: string, member = lease): void {
    held.add(lease);
    waiter.grant(lease, () => {
      restamped.push(member);
      reportSoon();
    });
  }

  function hasReports(): boolean {
    return restarted.length > 0 || restamped.length > 0 || unusedPermits.length > 0;
  }

  /** A request on `lease` has finished: its next waiter starts on a permit, or the lease goes back. */
  function finish(lease: string, busy: boolean): void {
    held.delete(lease);
    const hadPermit = permitted.delete(lease);
    if (busy) {
      // Everyone slows down: no more starts on permits until Redis says so again.
      stopUsingPermits();
    } else if (hadPermit) {
      const waiter = nextWaiter();
      if (waiter !== undefined) {
        const member = `${lease}#${nextStart++}`;
        restarted.push(member);
        start(waiter, lease, member);
        reportSoon();
        return;
      }
    }
    // Its permit, if any, goes back with it.
    finished.push({ lease, busy });
    wake();
  }

  function stopUsingPermits(): void {
    unusedPermits.push(...permitted);
    permitted.clear();
  }

  /** The first waiter that has not given up (those that have are told so). */
  function nextWaiter(): Waiter | undefined {
    for (let waiter = queue.shift(); waiter !== undefined; waiter = queue.shift()) {
      if (!waiter.signal?.aborted) return waiter;
      waiter.fail(aborted());
    }
    return undefined;
  }

  function dropAbortedWaiters(): void {
    for (const waiter of queue.items()) {
      if (waiter.signal?.aborted) {
        queue.remove(waiter);
        waiter.fail(aborted());
      }
    }
  }

  return {
    acquire(signal?: AbortSignal): Promise<ReleaseRequest> {
      return new Promise<ReleaseRequest>((resolve, reject) => {
        if (signal?.aborted) return reject(new LimiterAbortedError('aborted before start'));
        const waiter: Waiter = {
          signal,
          fail: reject,
          grant: (lease, sent) => {
            unsubscribe();
            resolve(grantHandle((result) => finish(lease, result.busy), sent));
          },
        };
        const unsubscribe = onAbort(signal, () => {
          // Dropped now unless a call that may grant it is out; the answer's handling drops it then.
          if (!calling && queue.remove(waiter)) reject(aborted());
        });
        queue.push(waiter);
        // Asleep on a poll timer means no slot is free for us: a new waiter changes nothing until it fires.
        if (pollTimer === undefined) wake();
      });
    },
  };
}

/** The keys a limiter with this prefix keeps in Redis, in the order the script takes them. */
export function redisLimiterKeys(prefix: string): string[] {
  return limitKeys(prefix);
}
