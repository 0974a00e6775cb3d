import { Redis } from 'ioredis';
import type { AuditStore } from '../audit/store.js';
import type { Config } from '../config.js';
import { openQueues, type PipelineQueues } from '../pipeline/queues.js';
import { withAuditMetrics } from './audit-metrics.js';
import type { MetricsEndpoint } from './http-endpoint.js';
import { startOpsEndpoint } from './ops-endpoint.js';
import { addQueueDepth } from './queue-metrics.js';
import { createMetrics, type PdsTraceMetrics } from './registry.js';
import { addScheduleLastSuccess } from './schedule-metrics.js';

/**
 * The operations side of `pds-trace serve`, on PDS_TRACE_METRICS_PORT (never the web port): audit
 * append failures of the web service's store, queue depth when REDIS_URL is set (so a queue that
 * fills with no worker running still shows), the schedules' last success, and readiness over the
 * data folder, the audit store and Redis.
 */
export interface ServeOps {
  readonly metrics: PdsTraceMetrics;
  /** Wraps the store the web service appends to, counting failed appends (and probing it for readiness). */
  instrumentAudit(store: AuditStore): AuditStore;
  /** Starts the endpoint when PDS_TRACE_METRICS_PORT is set. */
  start(): Promise<MetricsEndpoint | undefined>;
  close(): Promise<void>;
}

export function serveOps(config: Readonly<Config>): ServeOps {
  const metrics = createMetrics();
  let audit: AuditStore | undefined;
  let redis: Redis | undefined;
  let queues: PipelineQueues | undefined;
  let endpoint: MetricsEndpoint | undefined;
  return {
    metrics,
    instrumentAudit(store) {
      audit = withAuditMetrics(store, metrics);
      return audit;
    },
    async start() {
      if (config.metrics.port === undefined) return undefined;
      if (config.redisUrl) {
        // Commands fail at once while Redis is away rather than queue: a scrape must not hang.
        redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
        redis.on('error', () => undefined);
        redis.connect().catch(() => undefined);
        queues = openQueues(redis, config.redisPrefix);
        for (const queue of [queues.ingest, queues.trace, queues.assemble]) queue.on('error', () => undefined);
        addQueueDepth(metrics, queues);
      }
      addScheduleLastSuccess(metrics, config);
      endpoint = await startOpsEndpoint(config, metrics, { redisUrl: config.redisUrl, audit });
      return endpoint;
    },
    async close() {
      await endpoint?.close();
      await queues?.close().catch(() => undefined);
      redis?.disconnect();
    },
  };
}
