import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMetricsEndpoint, type MetricsEndpoint } from '../../src/metrics/http-endpoint.js';
import { createPki } from '../../src/tls/pki.js';
import { tempFolder } from '../audit/fixtures.js';
import { BUILT_CLI, ensureBuiltCli } from '../support/built-cli.js';
import { freePort } from '../support/ports.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

/**
 * The healthchecks docker-compose.yml relies on, run as Docker runs them: deploy/healthcheck.mjs
 * against a real /readyz endpoint and a real HTTPS server, and the simulator's own check, which
 * must fail until the simulator has written its certificates and answers over mutual TLS (workers
 * once started before that, and none of them ran).
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HEALTHCHECK = path.join(REPO, 'deploy/healthcheck.mjs');

interface Run {
  code: number;
  stdout: string;
}

function node(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: 90_000 }, (err, stdout) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }),
    );
  });
}

let folder: { dir: string; remove: () => Promise<void> };

beforeAll(() => {
  ensureBuiltCli();
}, 180_000);

beforeEach(async () => {
  folder = await tempFolder('pds-trace-healthcheck-');
});

afterEach(async () => {
  await folder.remove();
});

describe('deploy/healthcheck.mjs', () => {
  let endpoint: MetricsEndpoint | undefined;
  let ready = true;

  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });

  async function startEndpoint(): Promise<number> {
    const port = await freePort();
    endpoint = await startMetricsEndpoint({
      host: '127.0.0.1',
      port,
      registry: new Registry(),
      readiness: async () => ({ ready, checks: [{ name: 'redis', ok: ready, detail: ready ? undefined : 'Redis did not answer' }] }),
    });
    return port;
  }

  it('is healthy while /readyz on PDS_TRACE_METRICS_PORT says ready, and not once it says what failed', async () => {
    const port = String(await startEndpoint());
    ready = true;
    expect(await node([HEALTHCHECK], { PDS_TRACE_METRICS_PORT: port })).toMatchObject({ code: 0 });
    ready = false;
    const notReady = await node([HEALTHCHECK], { PDS_TRACE_METRICS_PORT: port });
    expect(notReady.code).toBe(1);
    expect(notReady.stdout).toContain('HTTP 503');
    expect(notReady.stdout).toContain('Redis did not answer');
  }, 60_000);

  it('reaches an endpoint listening on every address (PDS_TRACE_METRICS_HOST=0.0.0.0) through loopback', async () => {
    const port = String(await startEndpoint());
    ready = true;
    expect(await node([HEALTHCHECK], { PDS_TRACE_METRICS_PORT: port, PDS_TRACE_METRICS_HOST: '0.0.0.0' })).toMatchObject({ code: 0 });
  }, 60_000);

  it('is unhealthy when nothing answers, or the settings are wrong', async () => {
    const nothing = await node([HEALTHCHECK], { PDS_TRACE_METRICS_PORT: String(await freePort()) });
    expect(nothing.code).toBe(1);
    expect(nothing.stdout).toContain('not ready');
    const invalid = await node([HEALTHCHECK], { PDS_TRACE_METRICS_PORT: 'nine' });
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain('PDS_TRACE_METRICS_PORT');
  }, 60_000);

  it('has nothing to probe without PDS_TRACE_METRICS_PORT (a one-off command), and says so', async () => {
    expect(await node([HEALTHCHECK], {})).toEqual({ code: 0, stdout: 'no PDS_TRACE_METRICS_PORT: nothing to probe\n' });
  }, 60_000);

  it('probes a URL it is given over HTTPS on loopback, whoever signed the certificate', async () => {
    const pki = await createPki(['localhost', '127.0.0.1']);
    let status = 200;
    const server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => {
      res.writeHead(status);
      res.end('sign in');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/sign-in`;
      expect(await node([HEALTHCHECK, url], {})).toMatchObject({ code: 0 });
      status = 500;
      expect(await node([HEALTHCHECK, url], {})).toMatchObject({ code: 1 });
    } finally {
      server.close();
    }
  }, 60_000);
});

describe("the simulator's healthcheck in docker-compose.yml", () => {
  let simulator: TestSimulator | undefined;

  afterEach(async () => {
    await simulator?.close();
    simulator = undefined;
  });

  it('fails until the simulator has written its certificates and answers over mutual TLS, then passes', async () => {
    const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: { simulator: { command: string[]; healthcheck: { test: string[] }; environment: Record<string, string> } };
    };
    const service = compose.services.simulator;
    const [kind, program, ...args] = service.healthcheck.test;
    expect([kind, program]).toEqual(['CMD', 'pds-trace']);
    const certDir = path.join(folder.dir, 'certs');
    const auditUrlFile = path.join(folder.dir, 'audit_database_url');
    await writeFile(auditUrlFile, 'postgres://pds_trace_app:synthetic@127.0.0.1:5432/pds_trace\n', { mode: 0o600 });
    const port = await freePort();
    // The service's environment as the container has it, its folders mapped onto this machine's.
    const env = Object.fromEntries(
      Object.entries(service.environment).map(([name, value]) => [
        name,
        String(value)
          .replace(/^\/certs\//, `${certDir}/`)
          .replace(/^\/run\/secrets\/audit_database_url$/, auditUrlFile)
          .replace(/^\/data$/, path.join(folder.dir, 'data'))
          .replace(/:8443\//, `:${port}/`),
      ]),
    );
    expect(service.command).toEqual(expect.arrayContaining(['--cert-dir', '/certs', '--port', '8443']));

    const beforeCertificates = await node([BUILT_CLI, ...args], env);
    expect(beforeCertificates.code).toBe(1);
    expect(beforeCertificates.stdout).toMatch(/\[FAIL\] TLS/);

    simulator = await startTestSimulator({ port, certDir, serverNames: ['simulator'] });
    const answering = await node([BUILT_CLI, ...args], env);
    expect(answering.stdout).toMatch(/\[PASS\] SMSP answers: 127\.0\.0\.1:\d+ answered over mutual TLS/);
    expect(answering.code).toBe(0);

    await simulator.close();
    simulator = undefined;
    const stopped = await node([BUILT_CLI, ...args], env);
    expect(stopped.code).toBe(1);
  }, 180_000);
});
