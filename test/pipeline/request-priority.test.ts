import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { requestPriority, withRequestPriority, type PriorityClass } from '../../src/pipeline/priority.js';
import { createRedisLimiter } from '../../src/pipeline/redis-limiter.js';
import type { RequestLimiter } from '../../src/pipeline/limiter.js';
import { withRowLimit, type SmspCaller } from '../../src/pipeline/strategy.js';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../support/redis.js';

/**
 * Interactive batches' requests go ahead of bulk ones at every gate a request waits at (issue 16,
 * ARCHITECTURE property 10): the row limit of a worker, and the SMSP limiter shared by the worker
 * processes. Bulk requests are slowed, never lost: every one is granted in the end.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests of one class through `gate`, each held `workMs`; `order` records the class of each grant. */
function requests(gate: RequestLimiter, priority: PriorityClass, count: number, workMs: number, order: PriorityClass[]): Promise<void> {
  return withRequestPriority(priority, () =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const release = await gate.acquire();
        order.push(priority);
        await sleep(workMs);
        release({ busy: false });
      }),
    ).then(() => undefined),
  );
}

describe('request priority at the Redis-backed SMSP limiter', () => {
  const connections: Redis[] = [];
  const prefixes: string[] = [];
  beforeAll(() => {
    connections.push(connectTestRedis(), connectTestRedis());
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(connections[0]!, p);
    for (const c of connections) c.disconnect();
  });
  function limiters(maxInFlight: number): RequestLimiter[] {
    const prefix = uniquePrefix('request-priority');
    prefixes.push(prefix);
    return connections.map((redis) => createRedisLimiter({ redis, prefix, leaseTtlMs: 5000, maxInFlight, maxRatePerSecond: 10_000 }));
  }

  it('in one process, grants interactive requests before the bulk ones that were waiting first', async () => {
    const [gate] = limiters(2);
    const order: PriorityClass[] = [];
    const bulk = requests(gate!, 'bulk', 12, 30, order);
    await sleep(50); // two bulk requests hold the slots, ten wait
    const interactive = requests(gate!, 'interactive', 4, 30, order);
    await Promise.all([bulk, interactive]);
    expect(order).toHaveLength(16);
    // Only bulk requests granted before the interactive ones asked (give or take one handed on as they did) precede them.
    const lastInteractive = order.lastIndexOf('interactive');
    expect(lastInteractive).toBeLessThanOrEqual(2 + 4 + 1);
  });

  it('across processes, gives every slot to the process with interactive requests waiting until they are served, then to bulk again', async () => {
    const [bulkGate, interactiveGate] = limiters(4);
    const order: PriorityClass[] = [];
    // The bulk process keeps its slots full and has more waiting.
    const bulk = requests(bulkGate!, 'bulk', 80, 20, order);
    await sleep(100);
    const before = order.length;
    const interactive = requests(interactiveGate!, 'interactive', 24, 20, order);
    await interactive;
    const grantsUntilServed = order.length - before;
    // The interactive grants, and bulk ones only from slots granted before the interactive
    // requests were seen (at most the four in flight and their permits, once each). Shared
    // evenly instead, bulk would have had as many grants as interactive meanwhile.
    expect(grantsUntilServed).toBeLessThanOrEqual(24 + 8);
    await bulk;
    expect(order.filter((c) => c === 'bulk')).toHaveLength(80);
  });
});

describe('request priority at the row limit', () => {
  it('lets waiting interactive rows call ahead of bulk rows that asked first, and every row calls in the end', async () => {
    const calls: PriorityClass[] = [];
    const caller: SmspCaller = {
      call: async () => {
        await sleep(5);
        return { kind: 'no_match' } as unknown as Awaited<ReturnType<SmspCaller['call']>>;
      },
    };
    // The inner caller sees the class of the row it calls for.
    const limited = withRowLimit({ call: async (...args) => (calls.push(requestPriority()), caller.call(...args)) }, 1);
    const ask = (priority: PriorityClass, n: number) =>
      withRequestPriority(priority, () => Promise.all(Array.from({ length: n }, () => limited.call('getPatientDetailsByNHSNumber' as never, {} as never))));
    const bulk = ask('bulk', 10);
    const interactive = ask('interactive', 3);
    await Promise.all([bulk, interactive]);
    // Two rows in progress at a time (twice SMSP_MAX_IN_FLIGHT): the first two bulk rows had started.
    expect(calls).toHaveLength(13);
    expect(calls.slice(0, 5).filter((c) => c === 'interactive')).toHaveLength(3);
  });
});
