import { ConfigError, type Config } from '../config.js';
import { startMetricsEndpoint, type MetricsEndpoint } from './http-endpoint.js';
import {
  auditStoreProbe,
  checkReadiness,
  consumingProbe,
  dataFolderProbe,
  redisUrlProbe,
  watchFoldersProbe,
  type ReadinessProbe,
} from './readiness.js';
import type { PdsTraceMetrics } from './registry.js';

/** What a long-running process has that readiness should look at. */
export interface ReadinessParts {
  /**
   * REDIS_URL, asked on a connection of the probe's own each time: the process's own connections
   * wait out an outage (BullMQ's must), and a probe queued on them hung the process's shutdown.
   */
  redisUrl?: string;
  audit?: Parameters<typeof auditStoreProbe>[0];
  workers?: Parameters<typeof consumingProbe>[0];
  watchFolders?: Parameters<typeof watchFoldersProbe>[0];
}

export function readinessProbes(dataDir: string, parts: ReadinessParts): ReadinessProbe[] {
  const probes: ReadinessProbe[] = [dataFolderProbe(dataDir)];
  if (parts.redisUrl) probes.push(redisUrlProbe(parts.redisUrl));
  if (parts.audit) probes.push(auditStoreProbe(parts.audit));
  if (parts.workers && parts.workers.length > 0) probes.push(consumingProbe(parts.workers));
  if (parts.watchFolders && parts.watchFolders.length > 0) probes.push(watchFoldersProbe(parts.watchFolders));
  return probes;
}

/**
 * The operations endpoint of `serve`, `worker` and `watch`, when PDS_TRACE_METRICS_PORT asks for
 * one: metrics, liveness, and readiness over the data folder and whatever else the process relies
 * on. Always a port of its own, never the web service's: /metrics is for the monitoring network,
 * not for everyone who can reach the sign-in page.
 */
export async function startOpsEndpoint(config: Pick<Config, 'metrics' | 'dataDir'>, metrics: PdsTraceMetrics, parts: ReadinessParts): Promise<MetricsEndpoint | undefined> {
  if (config.metrics.port === undefined) return undefined;
  const probes = readinessProbes(config.dataDir, parts);
  const { host, port } = config.metrics;
  try {
    return await startMetricsEndpoint({ host, port, registry: metrics.registry, readiness: () => checkReadiness(probes) });
  } catch (err) {
    // A port taken or an address not ours is the setting's fault, and the person who set it can fix it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new ConfigError([`cannot listen on ${host}:${port} for metrics (${code}): change PDS_TRACE_METRICS_PORT or PDS_TRACE_METRICS_HOST`]);
    }
    throw err;
  }
}
