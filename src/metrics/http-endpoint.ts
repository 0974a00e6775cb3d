import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ReadinessReport } from './readiness.js';

/**
 * The operations endpoint of a `worker` or `watch` process: `GET /metrics` (Prometheus),
 * `GET /healthz` (the process is alive) and `GET /readyz` (it can work; what failed in the body).
 * Plain node:http: three read-only routes need no framework. It serves no patient data, so it has
 * no sign-in; bind it to an address only the monitoring network reaches.
 */

export interface MetricsEndpointOptions {
  host: string;
  port: number;
  registry: Registry;
  readiness: () => Promise<ReadinessReport>;
}

export interface MetricsEndpoint {
  url: string;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

export async function startMetricsEndpoint(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const server = http.createServer((req, res) => {
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    const answer = async () => {
      switch (route) {
        case 'GET /metrics':
          return send(res, 200, options.registry.contentType, await options.registry.metrics());
        case 'GET /healthz':
          return send(res, 200, 'application/json', '{"status":"ok"}\n');
        case 'GET /readyz': {
          const report = await options.readiness();
          return send(res, report.ready ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`);
        }
        default:
          return send(res, 404, 'text/plain', 'not found: /metrics, /healthz and /readyz are served here\n');
      }
    };
    answer().catch((err: unknown) => send(res, 500, 'text/plain', `${(err as Error).message}\n`));
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
