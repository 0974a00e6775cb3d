/**
 * Retry policy for SMSP calls: exponential back-off with "full jitter" (a uniform delay between 0
 * and the exponential cap), which spreads the retries of many workers after a shared failure such
 * as an HTTP 503 "ITK busy tone" (SPEC §6.3) instead of sending them back in lock-step.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */

import { onAbort } from './on-abort.js';

/** Upper bound of the back-off when the caller sets none, in milliseconds. */
export const DEFAULT_MAX_DELAY_MS = 10_000;

/**
 * The wait before the next attempt, after attempt `attempt` (1-based) failed: uniform in
 * [0, min(maxDelayMs, baseDelayMs * 2^(attempt-1))). `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError('attempt must be an integer >= 1');
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0)) throw new RangeError('delays must be >= 0');
  // Capping the exponent first keeps 2 ** n finite for absurd attempt numbers.
  const exponential = baseDelayMs * 2 ** Math.min(attempt - 1, 52);
  const cap = Math.min(maxDelayMs, exponential);
  return Math.floor(cap * Math.min(Math.max(random(), 0), 1 - Number.EPSILON));
}

/**
 * Resolves after `ms` milliseconds; rejects with the signal's reason as soon as `signal` aborts
 * (at once if it already has), so a shutdown never waits out a back-off.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, ms);
    const unsubscribe = onAbort(signal, () => {
      clearTimeout(timer);
      reject(signal?.reason);
    });
  });
}
