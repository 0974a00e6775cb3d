import type { ReleaseRequest, SmspLimiter } from '../smsp/client.js';
import { onAbort } from '../smsp/on-abort.js';
import { PriorityLine } from './priority.js';

/**
 * The gate every SMSP request passes: at most `maxInFlight` open at once, at most
 * `maxRatePerSecond` started in any one-second window, and a back-off shared by every request
 * when the provider says it is busy (HTTP 503), so the whole pipeline slows down rather than one
 * request retrying into a wall.
 *
 * This implementation holds within one process (the embedded runner). The BullMQ runner uses a
 * Redis-backed limiter with the same interface so the limits hold across processes.
 */

export type { ReleaseRequest };
/** The SMSP client's limiter hook, as both limiters here implement it. */
export type RequestLimiter = SmspLimiter;

/**
 * The handle a limiter gives a granted request: the release acts once, and `sent` acts once and
 * only before the release (a request that has ended cannot go out).
 */
export function grantHandle(onRelease: (result: { busy: boolean }) => void, onSent: () => void): ReleaseRequest {
  let released = false;
  let sent = false;
  const release: ReleaseRequest = (result) => {
    if (released) return;
    released = true;
    onRelease(result);
  };
  release.sent = () => {
    if (sent || released) return;
    sent = true;
    onSent();
  };
  return release;
}

export interface LimiterOptions {
  maxInFlight: number;
  maxRatePerSecond: number;
  /** First pause after a busy answer; doubles on each consecutive busy answer. */
  busyBackoffMs?: number;
  /** Longest shared pause. */
  maxBusyBackoffMs?: number;
  /**
   * Added to the one-second window. Start times are taken here, the provider counts arrivals:
   * a little slack keeps network jitter from pushing two windows' worth into one of theirs.
   */
  windowSlackMs?: number;
  now?: () => number;
}

export class LimiterAbortedError extends Error {
  override readonly name = 'LimiterAbortedError';
}

export function createLocalLimiter(options: LimiterOptions): RequestLimiter {
  const now = options.now ?? (() => performance.now());
  const windowMs = 1000 + (options.windowSlackMs ?? 50);
  const baseBackoff = options.busyBackoffMs ?? 500;
  const maxBackoff = options.maxBusyBackoffMs ?? 10_000;
  // Start times of the last `maxRatePerSecond` requests, oldest first: the next start may happen
  // once the oldest has left the window (a sliding window, not per-second buckets).
  const starts: number[] = [];
  let inFlight = 0;
  let pausedUntil = 0;
  let consecutiveBusy = 0;
  // Interactive batches' requests first (priority.ts).
  const waiters = new PriorityLine<(startedAt: number) => void>();
  let timer: NodeJS.Timeout | undefined;

  function nextStartDelay(t: number): number {
    const rateWait = starts.length >= options.maxRatePerSecond ? starts[0]! + windowMs - t : 0;
    return Math.max(rateWait, pausedUntil - t, 0);
  }

  function pump(): void {
    if (timer) return;
    while (waiters.length > 0 && inFlight < options.maxInFlight) {
      const t = now();
      const delay = nextStartDelay(t);
      if (delay > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          pump();
        }, Math.ceil(delay));
        return;
      }
      starts.push(t);
      if (starts.length > options.maxRatePerSecond) starts.shift();
      inFlight++;
      waiters.shift()!(t);
    }
  }

  /** A start counted from `grantedAt` moves to now, the newest start (the window stays in order). */
  function restamp(grantedAt: number): void {
    const i = starts.lastIndexOf(grantedAt);
    if (i >= 0) starts.splice(i, 1);
    starts.push(now());
    if (starts.length > options.maxRatePerSecond) starts.shift();
  }

  function release(result: { busy: boolean }): void {
    inFlight--;
    if (result.busy) {
      consecutiveBusy++;
      const pause = Math.min(maxBackoff, baseBackoff * 2 ** (consecutiveBusy - 1));
      pausedUntil = Math.max(pausedUntil, now() + pause);
    } else {
      consecutiveBusy = 0;
    }
    pump();
  }

  return {
    acquire(signal?: AbortSignal): Promise<ReleaseRequest> {
      return new Promise<ReleaseRequest>((resolve, reject) => {
        if (signal?.aborted) return reject(new LimiterAbortedError('aborted before start'));
        let settled = false;
        const grant = (startedAt: number) => {
          settled = true;
          unsubscribe();
          resolve(grantHandle(release, () => restamp(startedAt)));
        };
        const unsubscribe = onAbort(signal, () => {
          if (settled) return;
          waiters.remove(grant);
          reject(new LimiterAbortedError('aborted while waiting for the SMSP limit'));
        });
        waiters.push(grant);
        pump();
      });
    },
  };
}
