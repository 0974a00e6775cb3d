import type { Command } from 'commander';
import type { AuditStore } from '../audit/store.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { embeddedRunner, queueRunner, usesQueues } from '../intake/runners.js';
import { loggerFor } from '../log.js';
import { withActor, type AuditSink } from '../pipeline/audit-sink.js';
import type { Provider } from '../pipeline/provider.js';
import { withBatchMetrics } from '../metrics/batch-metrics.js';
import type { PdsTraceMetrics } from '../metrics/registry.js';
import { serveOps } from '../metrics/serve-ops.js';
import { withLimiterMetrics, withSmspMetrics } from '../metrics/smsp-metrics.js';
import { startWebServer } from '../web/start.js';
import type { TracingChoice } from '../web/upload/tracing.js';
import { CliError, EXIT } from './errors.js';
import { openRedisRuntime, sharedSmspLimiter } from './redis-runtime.js';
import { MISUSE_WARNING } from './session.js';
import { toCliError } from './sign-in-session.js';
import { configuredProvider, connectSmsp, localLimiter, SIMULATOR_NOTICE } from './smsp-connection.js';

/**
 * `pds-trace serve`: the web service (src/web/). It signs nobody in itself: people sign in at its
 * pages (or POST /api/session), against the same users, matrix and audit trail as the CLI.
 */

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new CliError(`--port must be a whole number from 0 to 65535 (0: any free port), not ${JSON.stringify(value)}`, EXIT.usage);
  return port;
}

function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CliError(`port ${port} on ${host} is in use: stop what holds it or give another --port`, EXIT.failure);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new CliError(`cannot listen on ${host}: not an address of this machine (--host)`, EXIT.usage);
  if (code === 'ENOENT' || code === 'EACCES') {
    return new CliError(`cannot read the web certificate or key (PDS_TRACE_WEB_TLS_CERT / PDS_TRACE_WEB_TLS_KEY): ${(err as Error).message}`, EXIT.config);
  }
  if ((err as Error).message?.includes('PEM') || code?.startsWith('ERR_OSSL')) {
    return new CliError(`PDS_TRACE_WEB_TLS_CERT / PDS_TRACE_WEB_TLS_KEY: not a PEM certificate and its key (${(err as Error).message})`, EXIT.config);
  }
  return toCliError(err);
}

/**
 * What traces the files people upload, chosen as every way in chooses it (usesQueues): with
 * REDIS_URL the BullMQ queues, where the deployment's workers trace them; else this process, with
 * the embedded runner on one SMSP connection (each batch still names its user to SMSP). With no
 * provider configured the service still serves its pages, and an upload says what to set.
 */
export function serveTracing(config: Config, metrics?: PdsTraceMetrics): (audit: AuditStore) => Promise<TracingChoice> {
  return async (audit) => {
    let provider: Provider;
    try {
      // Users exist wherever anyone can sign in, so never simulator mode: the simulator only when asked for.
      provider = configuredProvider(config, false);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`Uploads cannot be traced until this is fixed: ${err.problems.join('; ')}\n`);
      return { unavailable: 'Files cannot be traced here yet: no SMSP provider is configured. Ask the service administrator to set SMSP_URL.' };
    }
    if (usesQueues(config.redisUrl)) {
      const runtime = await openRedisRuntime(config);
      process.stderr.write('Uploads are traced by the pds-trace workers of REDIS_URL.\n');
      // A retry is traced here, not by a worker: under the limit the workers share, as `pds-trace retry` does.
      const lendCaller = async () => {
        const limiter = sharedSmspLimiter(config, runtime);
        const connection = await connectSmsp(config, provider, loggerFor(config), metrics ? withLimiterMetrics(limiter, metrics) : limiter);
        return { caller: metrics ? withSmspMetrics(connection.client, metrics) : connection.client, release: () => connection.close() };
      };
      const runner = queueRunner(config.dataDir, runtime.queues);
      return { runner, runnerFor: () => runner, provider, live: runtime.queues.live, lendCaller, close: () => runtime.close() };
    }
    // Traced here, so counted here: rows by status, SMSP requests, in flight, limiter waits (as a worker counts them).
    const connection = await connectSmsp(config, provider, loggerFor(config), metrics ? withLimiterMetrics(localLimiter(config), metrics) : undefined);
    if (connection.simulated) process.stderr.write(`${SIMULATOR_NOTICE}\n`);
    process.stderr.write('Uploads are traced in this process (no REDIS_URL).\n');
    const caller = metrics ? withSmspMetrics(connection.client, metrics) : connection.client;
    const runnerAuditing = (sink: AuditSink) => {
      const runner = embeddedRunner(config.dataDir, { caller, audit: sink, maxInFlight: config.smsp.maxInFlight });
      return metrics ? withBatchMetrics(runner, metrics) : runner;
    };
    // A retry shares the one connection and its limit with the batches being traced; nothing to give back.
    const lendCaller = async () => ({ caller, release: async () => undefined });
    return { runner: runnerAuditing(audit), runnerFor: (actor: string) => runnerAuditing(withActor(audit, actor)), provider, lendCaller, close: () => connection.close() };
  };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the web service: sign in, see batches and download results in a browser, or use the JSON API')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--trust-proxy', 'honour X-Forwarded-For/-Proto/-Host: only behind a reverse proxy you run', false)
    .action(async (flags: { host: string; port: string; trustProxy: boolean }) => {
      const port = parsePort(flags.port);
      const config = loadConfig();
      const ops = serveOps(config);
      const server = await startWebServer({ config, host: flags.host, port, trustProxy: flags.trustProxy, misuseWarning: MISUSE_WARNING, openTracing: serveTracing(config, ops.metrics), instrumentAudit: ops.instrumentAudit }).catch((err: unknown) => {
        throw listenError(err, flags.host, port);
      });
      const endpoint = await ops.start().catch(async (err: unknown) => {
        await server.close();
        throw err;
      });
      process.stdout.write(`pds-trace web service at ${server.url}\n`);
      if (endpoint) process.stderr.write(`Metrics and health at ${endpoint.url}/metrics, /healthz and /readyz (PDS_TRACE_METRICS_PORT)\n`);
      process.stderr.write(`${MISUSE_WARNING}\nData folder ${config.dataDir}; sessions end after ${config.web.idleTimeoutMs / 60_000} minutes idle. SIGINT or SIGTERM stops it.\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      await ops.close();
    });
}
