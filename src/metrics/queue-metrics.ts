import { Gauge } from 'prom-client';
import { QUEUE_NAMES, type PipelineQueues, type QueueName } from '../pipeline/queues.js';
import { withinTime } from '../pipeline/within-time.js';
import type { PdsTraceMetrics } from './registry.js';

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;

/** How long a scrape waits for the queue counts before it answers without them. */
const SCRAPE_WAIT_MS = 2_000;

/**
 * `pdstrace_queue_jobs{queue,state}`: read from Redis at each scrape, so the figure is the
 * queue's, whichever process is scraped (every worker reports the same depth).
 */
export function addQueueDepth(metrics: PdsTraceMetrics, queues: PipelineQueues): void {
  new Gauge({
    name: 'pdstrace_queue_jobs',
    help: 'Jobs in each BullMQ queue by state',
    labelNames: ['queue', 'state'],
    registers: [metrics.registry],
    async collect() {
      try {
        const names = Object.keys(QUEUE_NAMES) as QueueName[];
        // BullMQ waits for its connection to come back before it asks: a scrape must not wait with it.
        const counts = await withinTime(Promise.all(names.map((name) => queues[name].getJobCounts(...STATES))), SCRAPE_WAIT_MS, 'Redis did not answer');
        names.forEach((name, i) => {
          for (const state of STATES) this.set({ queue: name, state }, counts[i]![state] ?? 0);
        });
      } catch {
        // Redis away: no figure rather than a stale one, and the rest of the scrape still answers
        // (/readyz says what is wrong).
        this.reset();
      }
    },
  });
}
