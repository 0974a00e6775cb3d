import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log.js';
import { interactionForService } from '../smsp/interactions.js';
import type { KeyPair } from '../tls/pki.js';
import { discardCertificates, prepareCertificates, type CertificatePaths } from './certificates.js';
import { DEFAULT_POPULATION } from './defaults.js';
import { createDirectory, loadDirectory, type PdsDirectory } from './directory.js';
import { createFaultPlan, parseFaultSpec, type FaultRates } from './faults.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, SimulatorMetrics, type SimulatorMetricsSnapshot } from './metrics.js';
import { describeRules, RecentMessageIds } from './protocol-rules.js';
import { busy, createSmspEndpoint, type EndpointAnswer, type EndpointResult } from './smsp-endpoint.js';

/**
 * The SMSP simulator's HTTPS server: one POST endpoint for all five interactions over mutual TLS
 * (SPEC §1), plus `GET /metrics` (Prometheus), `GET /status` (JSON) and `POST /reset`. Startable
 * in-process (tests, the quick start, the embedded runner) or from `pds-trace simulator`.
 * An answer to a request that broke protocol rules also carries an `X-Simulator-Violations` header
 * listing the rule ids, so a client's developer sees them without reading the fault body.
 */

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the simulator is a local tool. */
  host?: string;
  /** The PDS to answer from; otherwise `populationFile`, otherwise generated from `seed` and `size`. */
  directory?: PdsDirectory;
  seed?: string | number;
  size?: number;
  populationFile?: string;
  /**
   * How long after its request arrives each answer is sent, in milliseconds, the simulator's own
   * work included (as a provider's response time includes its own); `jitterMs` varies it uniformly
   * by ± that much.
   */
  latencyMs?: number;
  jitterMs?: number;
  /** Provider-side cap: above this many requests in flight, answer HTTP 503 at once. */
  maxInFlight?: number;
  /** Fault rates, e.g. `busy=0.05,fault2100=0.02` (see faults.ts). */
  faults?: string | FaultRates;
  /** Seed for fault and jitter draws; fixed seeds give reproducible runs. */
  faultSeed?: string | number;
  /** Where to keep (or find) the generated certificates; default a fresh temporary folder. */
  /** Host names besides localhost for the generated server certificate. */
  serverNames?: string[];
  certDir?: string;
  /** Server certificate, key and the CA trusted for client certificates (PEM); nothing generated then. */
  tls?: { cert: string; key: string; ca: string; client?: KeyPair };
  /** Never given patient data: it logs rule ids, interactions and codes. */
  logger?: Logger;
  /** Largest request body accepted, in bytes. Default 1 MiB (SMSP requests are a few KB). */
  maxBodyBytes?: number;
  /** The clock the timestamp rule reads; tests move it. */
  clock?: () => Date;
}

export interface RunningSimulator {
  /** e.g. https://127.0.0.1:<port>/smsp/pds */
  url: string;
  port: number;
  /** The folder holding the generated certificates, when they were generated. */
  certDir?: string;
  /** PEM text for a client: its certificate and key, and the CA that signed the server. When `tls`
   *  was given without a `client` pair, cert and key are empty. */
  clientTls: { cert: string; key: string; ca: string };
  clientTlsPaths?: { cert: string; key: string; ca: string };
  metrics(): SimulatorMetricsSnapshot;
  resetMetrics(): void;
  /** Stops listening, ends kept-alive connections and hanging requests; removes a temporary cert folder. */
  close(): Promise<void>;
}

const SMSP_PATHS = new Set(['/smsp/pds', '/']);
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const rates = typeof options.faults === 'string' ? parseFaultSpec(options.faults) : (options.faults ?? {});
  const directory = options.directory ?? (await openDirectory(options));
  const certificates = options.tls === undefined ? await prepareCertificates({ certDir: options.certDir, serverNames: options.serverNames }) : undefined;
  const serverTls = options.tls ?? { cert: certificates!.server.cert, key: certificates!.server.key, ca: certificates!.ca };
  const logger = options.logger;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const metrics = new SimulatorMetrics();
  const recentMessageIds = new RecentMessageIds();
  const faults = createFaultPlan({ rates, latencyMs: options.latencyMs, jitterMs: options.jitterMs, seed: options.faultSeed });
  const endpoint = createSmspEndpoint({ directory, faults, recentMessageIds, clock: options.clock });
  /** Cancels each answer still waiting out its latency (close() ends them at once). */
  const waiting = new Set<() => void>();
  const sockets = new Set<Socket>();

  async function serveSmsp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    metrics.requestStarted();
    // Out of flight as soon as the answer is sent (or the socket is gone). Counting until 'finish'
    // would let a lagging event loop see the client's next request before this one's 'finish',
    // and report more in flight than the client ever had open.
    let open = true;
    const finished = () => {
      if (open) metrics.requestFinished();
      open = false;
    };
    res.once('close', finished);
    const answer = (reply: Parameters<typeof send>[1]) => {
      // A hanging request stays in flight until its socket closes.
      if (reply.kind !== 'hang') finished();
      send(res, reply);
    };
    const soapAction = header(req, 'soapaction');
    if (options.maxInFlight !== undefined && metrics.inFlight > options.maxInFlight) {
      // The provider's own limit: refused before the body is read (SPEC §6.3 busy tone).
      req.resume();
      metrics.recordFault('in-flight-cap');
      metrics.recordAnswer(soapAction === undefined ? undefined : interactionForService(soapAction), 'HTTP-503');
      answer(busy());
      return;
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === 'aborted') return; // the client went away mid-request: nothing to answer
    if (body === 'too-large') {
      metrics.recordAnswer(undefined, 'HTTP-413');
      res.setHeader('Connection', 'close');
      answer({ kind: 'http', status: 413, contentType: 'text/plain; charset=utf-8', body: `request body over ${maxBodyBytes} bytes\n` });
      return;
    }
    const result = endpoint.handle({ body, soapAction, contentType: header(req, 'content-type') });
    record(result);
    // Counted from arrival: the time spent reading, checking and writing is part of the latency,
    // so a benchmark's ideal (in flight / latency) is not moved by how fast this process runs.
    if (result.answer.kind !== 'hang' && !(await delay(faults.delayMs() - (performance.now() - arrived)))) {
      return; // closing: the socket is being destroyed
    }
    if (result.violations.length > 0) res.setHeader('X-Simulator-Violations', result.violations.map((v) => v.rule).join(','));
    answer(result.answer);
  }

  function record(result: EndpointResult): void {
    metrics.recordAnswer(result.interaction, result.code);
    if (result.fault !== undefined) metrics.recordFault(result.fault);
    if (result.violations.length > 0) {
      metrics.recordViolations(result.violations.map((v) => v.rule));
      logger?.warn('SMSP simulator: request broke protocol rules', {
        interaction: result.interaction,
        answer: result.code,
        rules: result.violations.map((v) => `${v.rule}: ${v.detail}`),
      });
    } else if (logger?.isDebugEnabled()) {
      // Asked first: winston formats (redacts, stamps, serialises) a line before its level is filtered.
      logger.debug('SMSP simulator: answered', { interaction: result.interaction, answer: result.code, fault: result.fault });
    }
  }

  function serveAdmin(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method === 'GET' && path === '/metrics') {
      send(res, { kind: 'http', status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: renderPrometheus(metrics.snapshot()) });
    } else if (req.method === 'GET' && path === '/status') {
      const status = {
        simulator: 'pds-trace SMSP simulator (synthetic data only)',
        url,
        population: directory.size,
        latencyMs: options.latencyMs ?? 0,
        jitterMs: options.jitterMs ?? 0,
        maxInFlight: options.maxInFlight ?? null,
        faultRates: rates,
        metrics: metrics.snapshot(),
        rules: describeRules(),
      };
      send(res, { kind: 'http', status: 200, contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(status, null, 2)}\n` });
    } else if (req.method === 'POST' && path === '/reset') {
      metrics.reset();
      res.writeHead(204).end();
    } else {
      const known = SMSP_PATHS.has(path) || ['/metrics', '/status', '/reset'].includes(path);
      send(res, { kind: 'http', status: known ? 405 : 404, contentType: 'text/plain; charset=utf-8', body: known ? 'method not allowed\n' : 'not found\n' });
    }
  }

  const server = https.createServer(
    { cert: serverTls.cert, key: serverTls.key, ca: serverTls.ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (req.method === 'POST' && SMSP_PATHS.has(path)) {
        serveSmsp(req, res).catch((err: unknown) => {
          logger?.error('SMSP simulator: request failed', { error: err instanceof Error ? err.message : String(err) });
          if (!res.headersSent) res.writeHead(500).end();
          else res.destroy();
        });
      } else {
        req.resume();
        serveAdmin(req, res, path);
      }
    },
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client without an acceptable certificate is refused in the handshake; say why, not who.
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
    logger?.warn('SMSP simulator: TLS handshake refused', { reason: err.code ?? err.message });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    if (certificates !== undefined) await discardCertificates(certificates);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `https://${urlHost(options.host ?? '127.0.0.1')}:${port}/smsp/pds`;

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    certDir: certificates?.dir,
    clientTls: {
      cert: certificates?.client.cert ?? options.tls?.client?.cert ?? '',
      key: certificates?.client.key ?? options.tls?.client?.key ?? '',
      ca: certificates?.ca ?? serverTls.ca,
    },
    clientTlsPaths: certificates === undefined ? undefined : clientPaths(certificates.paths),
    metrics: () => metrics.snapshot(),
    resetMetrics: () => metrics.reset(),
    close: () => {
      closed ??= (async () => {
        for (const cancel of waiting) cancel();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Kept-alive and hanging connections would hold close() open: end them now.
        for (const socket of sockets) socket.destroy();
        await stopped;
        if (certificates !== undefined) await discardCertificates(certificates);
      })();
      return closed;
    },
  };

  /** Resolves true after `ms`, or false at once if the simulator closes first. */
  function delay(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(cancel);
        resolve(true);
      }, Math.max(0, ms));
      const cancel = () => {
        clearTimeout(timer);
        waiting.delete(cancel);
        resolve(false);
      };
      waiting.add(cancel);
    });
  }

  function send(res: ServerResponse, answer: EndpointAnswer): void {
    if (res.destroyed || res.writableEnded) return;
    switch (answer.kind) {
      case 'http':
        res.writeHead(answer.status, { 'Content-Type': answer.contentType, 'Content-Length': Buffer.byteLength(answer.body) }).end(answer.body);
        return;
      case 'reset':
        resetConnection(res.socket);
        return;
      case 'hang':
        // Nothing is sent; close() destroys the socket.
        return;
    }
  }
}

async function openDirectory(options: SimulatorOptions): Promise<PdsDirectory> {
  if (options.populationFile !== undefined) return loadDirectory(options.populationFile);
  return createDirectory({ seed: options.seed ?? DEFAULT_POPULATION.seed, size: options.size ?? DEFAULT_POPULATION.size });
}

/** Reads the body as UTF-8; past `limit` the rest is read and discarded, so the answer can still be sent. */
function readBody(req: IncomingMessage, limit: number): Promise<string | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? 'too-large' : Buffer.concat(chunks).toString('utf8')));
    // Resolving twice is harmless: whichever of 'end' and 'close' comes first decides.
    req.on('close', () => resolve('aborted'));
    req.on('error', () => resolve('aborted'));
  });
}

/** Tears the TCP connection down with a RST where the platform allows, so the client sees ECONNRESET. */
function resetConnection(socket: Socket | null): void {
  if (socket === null) return;
  const raw = (socket as Socket & { _parent?: Socket })._parent;
  if (raw !== undefined && typeof raw.resetAndDestroy === 'function') raw.resetAndDestroy();
  else socket.destroy();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function clientPaths(paths: CertificatePaths): { cert: string; key: string; ca: string } {
  return { cert: paths.clientCert, key: paths.clientKey, ca: paths.ca };
}
