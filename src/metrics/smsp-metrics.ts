import type { RequestLimiter } from '../pipeline/limiter.js';
import type { SmspCaller } from '../pipeline/strategy.js';
import type { PdsTraceMetrics } from './registry.js';

/**
 * Counts what SMSP was asked and answered, from the exchanges each call reports (every attempt,
 * retries included), so the client itself stays free of any metrics library.
 */
export function withSmspMetrics(caller: SmspCaller, metrics: PdsTraceMetrics): SmspCaller {
  return {
    call: async (interaction, query, options) => {
      const outcome = await caller.call(interaction, query, options);
      const exchanges = outcome.exchanges;
      exchanges.forEach((exchange, i) => {
        metrics.smspRequests.inc({ interaction: exchange.interaction, code: exchange.responseCode ?? exchange.reason });
        metrics.smspDuration.observe({ interaction: exchange.interaction }, exchange.durationMs / 1000);
        // Every exchange after the first of a call was sent because the one before it failed.
        const previous = exchanges[i - 1];
        if (previous) metrics.smspRetries.inc({ interaction: exchange.interaction, reason: previous.reason });
      });
      return outcome;
    },
  };
}

/** Times each wait for a slot, counts slots held and busy answers, around any limiter. */
export function withLimiterMetrics(limiter: RequestLimiter, metrics: PdsTraceMetrics): RequestLimiter {
  return {
    acquire: async (signal) => {
      const stopWait = metrics.limiterWait.startTimer();
      const release = await limiter.acquire(signal);
      stopWait();
      metrics.smspInFlight.inc();
      let released = false;
      const instrumented = Object.assign(
        (result: { busy: boolean }) => {
          if (!released) {
            released = true;
            metrics.smspInFlight.dec();
            if (result.busy) metrics.smspBusy.inc();
          }
          release(result);
        },
        release.sent ? { sent: release.sent } : {},
      );
      return instrumented;
    },
  };
}
