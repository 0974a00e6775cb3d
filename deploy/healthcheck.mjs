#!/usr/bin/env node
/**
 * The healthcheck of a pds-trace container (Dockerfile HEALTHCHECK, docker-compose.yml) and of any
 * machine that wants one: GET the process's readiness and exit 0 when it answers 2xx, 1 otherwise.
 *
 *   node deploy/healthcheck.mjs          GET /readyz on PDS_TRACE_METRICS_PORT (worker, watch), as
 *                                        the configuration reads it; no port set: nothing to probe
 *                                        (a one-off command), so healthy
 *   node deploy/healthcheck.mjs URL      GET that URL instead (the web service's own port)
 *
 * The port comes from the built configuration (dist/src/config.js), so this script reads no
 * setting of its own. HTTPS to this machine's loopback accepts the web service's own certificate
 * whoever signed it: the probe checks that the process answers, not who it is.
 */
import http from 'node:http';
import https from 'node:https';
import { ConfigError, loadConfig } from '../dist/src/config.js';

const TIMEOUT_MS = 4_000;
const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

function readinessUrl() {
  if (process.argv[2]) return new URL(process.argv[2]);
  const { metrics } = loadConfig();
  if (metrics.port === undefined) return undefined;
  // An endpoint listening on every address is reached from inside the container on loopback.
  const host = ['0.0.0.0', '::'].includes(metrics.host) ? '127.0.0.1' : metrics.host;
  return new URL(`http://${host.includes(':') ? `[${host}]` : host}:${metrics.port}/readyz`);
}

function get(url) {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { timeout: TIMEOUT_MS, rejectUnauthorized: !LOOPBACK.has(url.hostname) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (body.length < 2_000) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

try {
  const url = readinessUrl();
  if (url === undefined) {
    process.stdout.write('no PDS_TRACE_METRICS_PORT: nothing to probe\n');
    process.exit(0);
  }
  const { status, body } = await get(url);
  process.stdout.write(`${url.href}: HTTP ${status} ${body.trim().slice(0, 500)}\n`);
  process.exit(status >= 200 && status < 300 ? 0 : 1);
} catch (err) {
  process.stdout.write(`${err instanceof ConfigError ? err.message : `not ready: ${err.message}`}\n`);
  process.exit(1);
}
