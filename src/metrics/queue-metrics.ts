import { Gauge } from 'prom-client';
import { QUEUE_NAMES, type PipelineQueues, type QueueName } from '../pipeline/queues.js';
import type { PdsTraceMetrics } from './registry.js';

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;

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
        for (const name of Object.keys(QUEUE_NAMES) as QueueName[]) {
          const counts = await queues[name].getJobCounts(...STATES);
          for (const state of STATES) this.set({ queue: name, state }, counts[state] ?? 0);
        }
      } catch {
        // Redis away: no figure rather than a stale one, and the rest of the scrape still answers
        // (/readyz says what is wrong).
        this.reset();
      }
    },
  });
}
