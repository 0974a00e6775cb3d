import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from '../../src/smsp/retry.js';

describe('backoffDelay', () => {
  it('doubles the cap with each attempt: the top of the range is base * 2^(attempt-1)', () => {
    const top = () => 1 - Number.EPSILON;
    expect(backoffDelay(1, 100, 10_000, top)).toBe(99);
    expect(backoffDelay(2, 100, 10_000, top)).toBe(199);
    expect(backoffDelay(3, 100, 10_000, top)).toBe(399);
  });

  it('never exceeds maxDelayMs however many attempts have failed', () => {
    expect(backoffDelay(40, 100, 5_000, () => 0.999)).toBeLessThan(5_000);
    expect(backoffDelay(10_000, 100, 5_000, () => 0.999)).toBeLessThan(5_000);
  });

  it('uses full jitter: a random draw of 0 means no wait, 0.5 means half the cap', () => {
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(200);
  });

  it('rejects attempt numbers below 1', () => {
    expect(() => backoffDelay(0, 100, 1_000)).toThrow(RangeError);
  });

  test.prop([fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 600_000 }), fc.double({ min: 0, max: 1, noNaN: true })])(
    'always returns a whole number of ms in [0, min(max, base * 2^(attempt-1))]',
    (attempt, base, max, draw) => {
      const delay = backoffDelay(attempt, base, max, () => draw);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(max, base * 2 ** (attempt - 1)));
    },
  );
});

describe('sleep', () => {
  it('resolves after the delay', async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('rejects with the abort reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const slept = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await expect(slept).rejects.toThrow('shutting down');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects at once when the signal has already aborted', async () => {
    await expect(sleep(10_000, AbortSignal.abort(new Error('already stopped')))).rejects.toThrow('already stopped');
  });
});
