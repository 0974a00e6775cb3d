import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { serveOps } from '../metrics/serve-ops.js';
import { startWebServer } from '../web/start.js';
import { CliError, EXIT } from './errors.js';
import { MISUSE_WARNING } from './session.js';
import { toCliError } from './sign-in-session.js';

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
      const server = await startWebServer({ config, host: flags.host, port, trustProxy: flags.trustProxy, misuseWarning: MISUSE_WARNING, instrumentAudit: ops.instrumentAudit }).catch((err: unknown) => {
        throw listenError(err, flags.host, port);
      });
      const endpoint = await ops.start().catch(async (err: unknown) => {
        await server.close();
        const code = (err as NodeJS.ErrnoException).code;
        throw code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES'
          ? new CliError(`cannot listen on ${config.metrics.host}:${config.metrics.port} for metrics (${code}): change PDS_TRACE_METRICS_PORT or PDS_TRACE_METRICS_HOST`, EXIT.config)
          : err;
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
