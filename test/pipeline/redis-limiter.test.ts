import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisLimiter, redisLimiterKeys } from '../../src/pipeline/redis-limiter.js';
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

  function limiters(options: { maxInFlight: number; maxRatePerSecond: number; busyBackoffMs?: number; leaseTtlMs?: number; windowSlackMs?: number }, prefix = uniquePrefix('limiter')) {
    prefixes.push(prefix);
    return connections.map((redis) => createRedisLimiter({ redis, prefix, leaseTtlMs: 5000, ...options }));
  }

  /** Runs `count` requests of `workMs` through `gate`, one after another on `parallel` lanes; records each start. */
  async function lanes(gate: RequestLimiter, count: number, parallel: number, workMs: number, log: { inFlight: number; max: number; starts: number[] }) {
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next++ < count) {
          const release = await gate.acquire();
          log.starts.push(performance.now());
          log.max = Math.max(log.max, ++log.inFlight);
          await sleep(workMs);
          log.inFlight--;
          release({ busy: false });
        }
      }),
    );
  }
  const newLog = () => ({ inFlight: 0, max: 0, starts: [] as number[] });

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

  it('counts a request that went out after its grant (a slow handshake) from when it went out, in every process', async () => {
    const [a, b] = limiters({ maxInFlight: 10, maxRatePerSecond: 2, windowSlackMs: 0 });
    const t0 = performance.now();
    const slow = await a!.acquire();
    (await b!.acquire())({ busy: false });
    await sleep(300);
    slow.sent?.(); // only now leaves: counted from here, not from its grant
    slow({ busy: false });
    (await b!.acquire())({ busy: false }); // b's first start leaves the window at ~1,000 ms
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    (await b!.acquire())({ busy: false }); // a's, counted from its sending, at ~1,300 ms
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1_290);
  });

  it('holds the per-second start limit while processes start requests on permits', async () => {
    // Rate room for permits (maxRate well above maxInFlight) and short requests: most starts are
    // made on permits, reported afterwards, until the window fills.
    const gates = limiters({ maxInFlight: 3, maxRatePerSecond: 40 });
    const logs = gates.map(() => newLog());
    const t0 = performance.now();
    await Promise.all(gates.map((gate, i) => lanes(gate, 60, 6, 1, logs[i]!)));
    const starts = logs.flatMap((l) => l.starts).sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[i]! - starts[j]! >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(starts).toHaveLength(120);
    expect(worst).toBeLessThanOrEqual(40);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2000);
  });

  it('holds the per-second start limit when long requests start again on permits while short ones fill the window', async () => {
    // b holds permits from its first starts while a's short requests fill the window; b's long
    // requests then finish and b starts again on those permits, inside the same window.
    const [a, b] = limiters({ maxInFlight: 4, maxRatePerSecond: 20 });
    const logA = newLog();
    const logB = newLog();
    await Promise.all([lanes(b!, 8, 4, 300, logB), lanes(a!, 40, 4, 1, logA)]);
    const starts = [...logA.starts, ...logB.starts].sort((x, y) => x - y);
    let worst = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[i]! - starts[j]! >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(20);
  });

  it('uses the whole per-second limit across processes when slots are plentiful, not only what each had in flight', async () => {
    // The rate binds, not the slots: the first window fills at once, the requests end long before
    // it moves on, and then every start must come from a poll. Each process used to stop at the
    // other's count in flight and then wait for its own requests to finish, so the two could stay at
    // a few requests each and use a fraction of the limit for a second or more.
    const [a, b] = limiters({ maxInFlight: 64, maxRatePerSecond: 100 });
    const logA = newLog();
    const logB = newLog();
    await Promise.all([lanes(a!, 200, 64, 200, logA), lanes(b!, 200, 64, 200, logB)]);
    const starts = [...logA.starts, ...logB.starts].sort((x, y) => x - y);
    // Windows of 1,050 ms (the default slack) allow 100 starts each: three of them, 300 starts,
    // from the first start to 3,150 ms after it (the old rule made 269-272 in repeated runs).
    const inThreeWindows = starts.filter((t) => t - starts[0]! < 3_150).length;
    expect(inThreeWindows).toBeGreaterThanOrEqual(285);
  });

  it('stops starts on permits in every process soon after one sees a busy answer', async () => {
    const [a, b] = limiters({ maxInFlight: 4, maxRatePerSecond: 10_000, busyBackoffMs: 500 });
    const logB = newLog();
    let stop = false;
    const steady = (async () => {
      // b keeps four requests of 5 ms going, on permits once it has them.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (!stop) {
            const release = await b!.acquire();
            logB.starts.push(performance.now());
            await sleep(5);
            release({ busy: false });
          }
        }),
      );
    })();
    await sleep(150);
    (await a!.acquire())({ busy: true });
    const busyAt = performance.now();
    await sleep(350);
    stop = true;
    await steady;
    // A few already under way while the news travels; none once it has (well within the 500 ms pause).
    const during = logB.starts.filter((t) => t > busyAt + 50 && t < busyAt + 350);
    expect(logB.starts.filter((t) => t < busyAt).length).toBeGreaterThan(20);
    expect(during).toEqual([]);
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

  it('shares the slots between processes that both wait, rather than letting the first keep them', async () => {
    const [a, b] = limiters({ maxInFlight: 8, maxRatePerSecond: 10_000 });
    const logA = newLog();
    const logB = newLog();
    const first = lanes(a!, 200, 16, 10, logA);
    await sleep(50); // a holds every slot and has waiters of its own
    const second = lanes(b!, 200, 16, 10, logB);
    // Waited for rather than timed, so a loaded machine slows both sides alike: b is given its share
    // (4 of 8, give or take the requests in flight) while a still has work of its own.
    while (logB.max < 3 && logA.starts.length < 200) await sleep(5);
    expect(logB.max).toBeGreaterThanOrEqual(3);
    expect(logA.starts.length).toBeLessThan(200);
    await Promise.all([first, second]);
  });

  it('asks Redis about once per request, not once per acquire, release and poll', async () => {
    const gates = limiters({ maxInFlight: 4, maxRatePerSecond: 10_000 });
    const calls = connections.map((redis) => vi.spyOn(redis, 'evalsha'));
    try {
      await Promise.all(gates.map((gate) => lanes(gate, 60, 8, 10, newLog())));
      const total = calls.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
      expect(total).toBeLessThanOrEqual(1.5 * 120);
    } finally {
      for (const spy of calls) spy.mockRestore();
    }
  });

  it('takes turns when there are fewer slots than processes waiting, rather than one keeping the slot', async () => {
    const [a, b] = limiters({ maxInFlight: 1, maxRatePerSecond: 10_000 });
    const logA = newLog();
    const logB = newLog();
    const first = lanes(a!, 40, 4, 5, logA);
    await sleep(20); // a holds the only slot and has more waiting
    const second = lanes(b!, 40, 4, 5, logB);
    // Turn by turn, each gets about half of the starts while both wait: b reaches 8 before a is done.
    while (logB.starts.length < 8 && logA.starts.length < 40) await sleep(2);
    expect(logB.starts.length).toBeGreaterThanOrEqual(8);
    expect(logA.starts.length).toBeLessThan(40);
    await Promise.all([first, second]);
  });

  it('gives every slot to the one process still waiting once the other has finished', async () => {
    const [a, b] = limiters({ maxInFlight: 6, maxRatePerSecond: 10_000 });
    await Promise.all([lanes(a!, 30, 12, 5, newLog()), lanes(b!, 30, 12, 5, newLog())]);
    const alone = newLog();
    await lanes(a!, 60, 12, 20, alone);
    expect(alone.max).toBe(6);
  });

  it('leaves no lease, holder count or waiting mark behind once every request is released', async () => {
    const prefix = uniquePrefix('limiter');
    const gates = limiters({ maxInFlight: 3, maxRatePerSecond: 10_000 }, prefix);
    await Promise.all(gates.map((gate) => lanes(gate, 20, 6, 3, newLog())));
    await sleep(50); // the last releases are sent when they happen, not awaited by the caller
    const [leases, , , , held, demand, lastGrant] = redisLimiterKeys(prefix);
    const redis = connections[0]!;
    expect(await redis.zcard(leases!)).toBe(0);
    expect(await redis.hgetall(held!)).toEqual({});
    expect(await redis.zcard(demand!)).toBe(0);
    expect(await redis.hgetall(lastGrant!)).toEqual({});
  });
});
