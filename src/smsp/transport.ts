import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import tls from 'node:tls';
import type { TlsSettings } from '../config.js';
import type { ReasonCode } from '../domain/reasons.js';
import { SmspTransportError } from './errors.js';
import type { SmspRequest } from './types.js';
import { onAbort } from './on-abort.js';

/**
 * The HTTPS edge of the SMSP client: one POST per request over mutual TLS (SPEC §1). It returns the
 * raw status and body for HTTP 200 and 500 (500 carries SOAP faults, SPEC §6.3: the parser decides)
 * and throws a classified `SmspTransportError` for everything else, so the retry policy reads
 * `retryable` instead of pattern-matching messages.
 */
export interface SmspTransport {
  /** `onSent` is called once, at the latest moment the provider can have read the request (see `whenSent`). */
  send(request: SmspRequest, signal?: AbortSignal, onSent?: () => void): Promise<SmspHttpResponse>;
  /** Releases pooled connections; optional so test doubles need not implement it. */
  close?(): void;
}

export interface SmspHttpResponse {
  status: number;
  body: string;
}

/** Client certificate material for mutual TLS, as Node's TLS layer takes it. */
export interface TlsMaterial {
  cert?: string | Buffer;
  key?: string | Buffer;
  /** CA bundle that signs the provider's server certificate (NHS issues its own CA). */
  ca?: string | Buffer;
  /** PKCS#12 bundle (endpoint certificate, sub CA, CA), the form NHS issues at registration (SPEC §1). */
  pfx?: Buffer;
  passphrase?: string;
}

export interface HttpsTransportOptions {
  /** The SMSP endpoint, e.g. https://msg.opentest.hscic.gov.uk/smsp/pds. */
  url: string;
  tls: TlsMaterial;
  /** Whole-exchange timeout per request (connect, TLS, send, answer), in milliseconds. */
  timeoutMs: number;
  /** Most connections open to the provider at once from this process. Default 64. */
  maxSockets?: number;
  /** Send SOAPAction in double quotes. Default false: NHS examples send it unquoted (SPEC §1). */
  soapActionQuoted?: boolean;
  /** Largest response body accepted, in bytes. Default 2 MiB (SMSP responses are a few KB). */
  maxResponseBytes?: number;
}

const DEFAULT_MAX_SOCKETS = 64;
const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;

/**
 * Statuses whose body the parser reads: answers (200) and SOAP faults (500), SPEC §6.3. An SMSP
 * payload that is not a fault on 500 is refused later, as `payload_on_http_error` (answer-checks.ts).
 */
const PASSED_STATUSES: ReadonlySet<number> = new Set([200, 500]);
/** Gateway errors in front of the provider; the provider itself may be fine a moment later. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 504]);
/** Node / OpenSSL error codes of a failed certificate check or handshake: retrying cannot help. */
const TLS_ERROR_CODE = /^(CERT_|ERR_SSL_|ERR_TLS_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|HOSTNAME_MISMATCH$|EPROTO$)/;

/** Whether a Node error code is a failed certificate check or TLS handshake (not the network). */
export function isTlsErrorCode(code: string): boolean {
  return TLS_ERROR_CODE.test(code);
}

/**
 * Calls `onSent` at the latest moment the provider can have read the request. On a kept-alive
 * connection that is once it is written in full. On a new one the provider reads it only after
 * finishing the handshake at its end, which the client cannot see: a burst of new connections
 * (every start-up) made the simulator read 64 requests over ~200 ms that had all been written at
 * once, and the rate limiter, counting from the writes, let 269 arrive in the simulator's busiest
 * second for a limit of 250. So those count from their answer, which the provider sent after
 * reading them.
 */
function whenSent(req: ClientRequest, onSent: () => void): void {
  let called = false;
  const sent = () => {
    if (called) return;
    called = true;
    onSent();
  };
  req.once('finish', () => {
    if (req.reusedSocket) sent();
  });
  req.once('response', sent);
}

export function createHttpsTransport(options: HttpsTransportOptions): SmspTransport & { probe(signal?: AbortSignal): Promise<number>; close(): void } {
  const url = new URL(options.url);
  if (url.protocol !== 'https:') throw new TypeError('SMSP transport: the URL must use https');
  // Built once, which also fails at start-up, not on every request, when the key does not fit the
  // certificate or the PKCS#12 passphrase is wrong.
  const secureContext = tls.createSecureContext(options.tls);
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  // One keep-alive agent per transport: SMSP calls are many and small, and a TLS handshake per
  // call would cost more than the call. Certificate verification is always on, by design.
  // The material goes in as a secure context, not as cert/key/ca: the agent names its connection
  // pool by concatenating those options on every request (https.Agent#getName), kilobytes of PEM.
  const agent = new https.Agent({
    secureContext,
    keepAlive: true,
    maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
    rejectUnauthorized: true,
  });
  const target = { protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: `${url.pathname}${url.search}` };

  function send(request: SmspRequest, signal?: AbortSignal, onSent?: () => void): Promise<SmspHttpResponse> {
    const fail = (message: string, reason: ReasonCode, retryable: boolean, extra: { httpStatus?: number; cause?: unknown } = {}) =>
      new SmspTransportError(`SMSP ${request.interaction}: ${message}`, { reason, retryable, interaction: request.interaction, ...extra });

    if (signal?.aborted) return Promise.reject(fail('abandoned before sending', 'aborted', false));

    return new Promise<SmspHttpResponse>((resolve, reject) => {
      let response: IncomingMessage | undefined;
      let settled = false;
      const settle = (outcome: SmspHttpResponse | SmspTransportError, { keepSocket = false } = {}) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        if (outcome instanceof SmspTransportError) {
          // Destroying also discards the socket, so a late answer cannot reach the next request.
          if (!keepSocket) {
            req.destroy();
            response?.destroy();
          }
          reject(outcome);
        } else {
          resolve(outcome);
        }
      };

      const req = https.request({
        ...target,
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'text/xml; charset=UTF-8',
          SOAPAction: options.soapActionQuoted ? `"${request.soapAction}"` : request.soapAction,
          'Content-Length': Buffer.byteLength(request.body, 'utf8'),
        },
      });
      // A plain timer rather than AbortSignal.timeout/any: it is cleared the moment the exchange
      // ends, and nothing stays attached to the caller's long-lived shutdown signal.
      const timer = setTimeout(() => settle(fail(`no answer within ${options.timeoutMs} ms`, 'timeout', true)), options.timeoutMs);
      const unsubscribe = onAbort(signal, () => settle(fail('abandoned by the caller', 'aborted', false)));

      req.on('error', (err) => settle(classifyNetworkError(err, fail)));
      if (onSent) whenSent(req, onSent);
      req.on('response', (res) => {
        response = res;
        const status = res.statusCode ?? 0;
        if (!PASSED_STATUSES.has(status)) {
          // A complete HTTP answer: drain it so the kept-alive socket serves the next request
          // (a busy provider should not also pay for a new TLS handshake per retry).
          res.resume();
          settle(httpStatusError(status, fail), { keepSocket: true });
          return;
        }
        const declared = Number(res.headers['content-length']);
        if (declared > maxResponseBytes) {
          settle(fail(`response larger than ${maxResponseBytes} bytes`, 'malformed_response', false, { httpStatus: status }));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) {
            settle(fail(`response larger than ${maxResponseBytes} bytes`, 'malformed_response', false, { httpStatus: status }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => settle({ status, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => settle(classifyNetworkError(err, fail)));
      });
      // Sent as a string: Node then writes the headers and the body in one TLS write.
      req.end(request.body, 'utf8');
    });
  }

  /**
   * A harmless request for `pds-trace doctor`: a GET of the endpoint over the same mutual TLS,
   * never a patient lookup. Any HTTP answer (SMSP answers GET with an error status) proves the
   * route, the handshake both ways and the certificates; failures are classified as for `send`.
   */
  function probe(signal?: AbortSignal): Promise<number> {
    const fail: Fail = (message, reason, retryable, extra = {}) => new SmspTransportError(`SMSP probe: ${message}`, { reason, retryable, ...extra });
    return new Promise<number>((resolve, reject) => {
      const req = https.request({ ...target, method: 'GET', agent, signal, timeout: options.timeoutMs }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(classifyNetworkError(err, fail)));
      req.end();
    });
  }

  return { send, probe, close: () => agent.destroy() };
}

type Fail = (message: string, reason: ReasonCode, retryable: boolean, extra?: { httpStatus?: number; cause?: unknown }) => SmspTransportError;

function httpStatusError(status: number, fail: Fail): SmspTransportError {
  // 503 is the ITK "busy tone" (SPEC §6.3): back off and try again.
  if (status === 503) return fail('provider busy (HTTP 503)', 'provider_busy', true, { httpStatus: status });
  return fail(`unexpected HTTP status ${status}`, 'http_status', RETRYABLE_STATUSES.has(status), { httpStatus: status });
}

/** Classifies a socket / TLS error by its Node error code; the message names the code only. */
function classifyNetworkError(err: Error, fail: Fail): SmspTransportError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const cause = err;
  if (isTlsErrorCode(code)) return fail(`TLS handshake failed (${code})`, 'tls_error', false, { cause });
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return fail(`connection reset (${code})`, 'connection_reset', true, { cause });
    case 'ECONNREFUSED':
      return fail('connection refused (ECONNREFUSED)', 'connection_refused', true, { cause });
    case 'ETIMEDOUT':
      return fail('connection timed out (ETIMEDOUT)', 'timeout', true, { cause });
    default:
      return fail(`network error (${code || err.name})`, 'network_error', true, { cause });
  }
}

/** A TLS file named by a setting cannot be read or used. Names the setting and path, never contents. */
export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
  constructor(
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${message}`, options);
  }
}

/**
 * Reads the client certificate material named in the settings: PEM certificate, key and CA paths,
 * or a PKCS#12 file with its passphrase (SPEC §1), then checks that Node can use it.
 */
export async function loadTlsMaterial(settings: TlsSettings): Promise<TlsMaterial> {
  const [cert, key, ca, pfx] = await Promise.all([
    readSetting('SMSP_TLS_CERT', settings.certPath),
    readSetting('SMSP_TLS_KEY', settings.keyPath),
    readSetting('SMSP_TLS_CA', settings.caPath),
    readSetting('SMSP_TLS_PFX', settings.pfxPath),
  ]);
  const material: TlsMaterial = { cert, key, ca, pfx, passphrase: settings.passphrase };
  try {
    tls.createSecureContext(material);
  } catch (err) {
    // OpenSSL's message says what is wrong (bad passphrase, key mismatch) and holds no secrets.
    const setting = pfx ? 'SMSP_TLS_PFX' : 'SMSP_TLS_CERT';
    throw new TlsMaterialError(setting, `unusable TLS material (${(err as Error).message})`, { cause: err });
  }
  return material;
}

async function readSetting(setting: string, file: string | undefined): Promise<Buffer | undefined> {
  if (!file) return undefined;
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new TlsMaterialError(setting, `cannot read ${file} (${code})`, { cause: err });
  }
}
