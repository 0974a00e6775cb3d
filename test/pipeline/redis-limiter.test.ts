import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisLimiter } from '../../src/pipeline/redis-limiter.js';
import { LimiterAbortedError, type RequestLimiter } from '../../src/pipeline/limiter.js';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../support/redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two limiters on two connections stand in for two worker processes sharing one limit. */
describe('Redis-backed SMSP limiter shared by processes', () => {
  const connections: Redis[] = [];
  const prefixes: string[] = [];

  beforeAll(() => {
    connections.push(connectTestRedis(), connectTestRedis());
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(connections[0]!, p);
    for (const c of connections) c.disconnect();
  });

  function limiters(options: { maxInFlight: number; maxRatePerSecond: number; busyBackoffMs?: number; leaseTtlMs?: number }) {
    const prefix = uniquePrefix('limiter');
    prefixes.push(prefix);
    return connections.map((redis) => createRedisLimiter({ redis, prefix, leaseTtlMs: 5000, ...options }));
  }

  async function hammer(gates: RequestLimiter[], perGate: number, workMs: number) {
    let inFlight = 0;
    let maxInFlight = 0;
    const starts: number[] = [];
    await Promise.all(
      gates.flatMap((gate) =>
        Array.from({ length: perGate }, async () => {
          const release = await gate.acquire();
          starts.push(performance.now());
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await sleep(workMs);
          inFlight--;
          release({ busy: false });
        }),
      ),
    );
    return { maxInFlight, starts: starts.sort((a, b) => a - b) };
  }

  it('holds the in-flight limit across both processes', async () => {
    const { maxInFlight } = await hammer(limiters({ maxInFlight: 4, maxRatePerSecond: 10_000 }), 20, 15);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThanOrEqual(3);
  });

  it('holds the per-second start limit across both processes', async () => {
    const { starts } = await hammer(limiters({ maxInFlight: 100, maxRatePerSecond: 8 }), 10, 1);
    let worst = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[i]! - starts[j]! >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(8);
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(2000);
  });

  it('slows every process down after one sees a busy answer', async () => {
    const [a, b] = limiters({ maxInFlight: 10, maxRatePerSecond: 10_000, busyBackoffMs: 400 });
    (await a!.acquire())({ busy: true });
    await sleep(20);
    const t0 = performance.now();
    (await b!.acquire())({ busy: false });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('frees the slot of a holder that vanished once its lease expires', async () => {
    const [a, b] = limiters({ maxInFlight: 1, maxRatePerSecond: 10_000, leaseTtlMs: 300 });
    await a!.acquire(); // never released: the process "died"
    const t0 = performance.now();
    (await b!.acquire())({ busy: false });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('lets a waiting request be abandoned', async () => {
    const [a] = limiters({ maxInFlight: 1, maxRatePerSecond: 10_000 });
    const held = await a!.acquire();
    const controller = new AbortController();
    const waiting = a!.acquire(controller.signal);
    setTimeout(() => controller.abort(), 30);
    await expect(waiting).rejects.toBeInstanceOf(LimiterAbortedError);
    held({ busy: false });
  });
});
