import type { Config } from '../config.js';
import { startMetricsEndpoint, type MetricsEndpoint } from './http-endpoint.js';
import { auditStoreProbe, checkReadiness, consumingProbe, dataFolderProbe, redisProbe, type ReadinessProbe } from './readiness.js';
import type { PdsTraceMetrics } from './registry.js';

/** What a long-running process has that readiness should look at. */
export interface ReadinessParts {
  redis?: Parameters<typeof redisProbe>[0];
  audit?: Parameters<typeof auditStoreProbe>[0];
  workers?: Parameters<typeof consumingProbe>[0];
}

/**
 * The operations endpoint of `worker` and `watch`, when PDS_TRACE_METRICS_PORT asks for one:
 * metrics, liveness, and readiness over the data folder and whatever else the process relies on.
 */
export async function startOpsEndpoint(config: Pick<Config, 'metrics' | 'dataDir'>, metrics: PdsTraceMetrics, parts: ReadinessParts): Promise<MetricsEndpoint | undefined> {
  if (config.metrics.port === undefined) return undefined;
  const probes: ReadinessProbe[] = [dataFolderProbe(config.dataDir)];
  if (parts.redis) probes.push(redisProbe(parts.redis));
  if (parts.audit) probes.push(auditStoreProbe(parts.audit));
  if (parts.workers) probes.push(consumingProbe(parts.workers));
  return startMetricsEndpoint({ host: config.metrics.host, port: config.metrics.port, registry: metrics.registry, readiness: () => checkReadiness(probes) });
}
