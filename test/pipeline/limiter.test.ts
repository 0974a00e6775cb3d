import { describe, expect, it } from 'vitest';
import { createLocalLimiter, LimiterAbortedError } from '../../src/pipeline/limiter.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runRequests(limiter: ReturnType<typeof createLocalLimiter>, count: number, workMs: number, busy = () => false) {
  let inFlight = 0;
  let maxInFlight = 0;
  const starts: number[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      const release = await limiter.acquire();
      starts.push(performance.now());
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(workMs);
      inFlight--;
      release({ busy: busy() });
    }),
  );
  return { maxInFlight, starts: starts.sort((a, b) => a - b) };
}

function maxStartsInAnyWindow(starts: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('local SMSP request limiter', () => {
  it('never lets more than maxInFlight requests run at once', async () => {
    const limiter = createLocalLimiter({ maxInFlight: 3, maxRatePerSecond: 1000 });
    const { maxInFlight } = await runRequests(limiter, 30, 5);
    expect(maxInFlight).toBe(3);
  });

  it('never starts more than maxRatePerSecond requests in any one-second window', async () => {
    const limiter = createLocalLimiter({ maxInFlight: 50, maxRatePerSecond: 10 });
    const t0 = performance.now();
    const { starts } = await runRequests(limiter, 25, 1);
    expect(maxStartsInAnyWindow(starts, 1000)).toBeLessThanOrEqual(10);
    // 25 starts at 10 per second need at least two full windows after the first burst.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2000);
  });

  it('counts a request that went out after its grant (a slow handshake) from when it went out', async () => {
    const limiter = createLocalLimiter({ maxInFlight: 10, maxRatePerSecond: 2, windowSlackMs: 0 });
    const t0 = performance.now();
    const slow = await limiter.acquire();
    (await limiter.acquire())({ busy: false });
    await sleep(300);
    slow.sent?.(); // the first request only now leaves: it counts from here, not from its grant
    slow({ busy: false });
    (await limiter.acquire())({ busy: false }); // the second's window has passed at 1,000 ms
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    await limiter.acquire(); // the first's, counted from its sending, passes at 1,300 ms
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1_290);
  });

  it('pauses every waiting request after a busy answer, not just the one that got it', async () => {
    const limiter = createLocalLimiter({ maxInFlight: 4, maxRatePerSecond: 1000, busyBackoffMs: 300 });
    const first = await limiter.acquire();
    first({ busy: true });
    const t0 = performance.now();
    await Promise.all([1, 2, 3].map(async () => (await limiter.acquire())({ busy: false })));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
  });

  it('lets a waiting request be abandoned without taking a slot', async () => {
    const limiter = createLocalLimiter({ maxInFlight: 1, maxRatePerSecond: 1000 });
    const held = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(LimiterAbortedError);
    held({ busy: false });
    const next = await limiter.acquire();
    next({ busy: false });
  });
});
