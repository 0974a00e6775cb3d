import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type SmspSettings } from '../../src/config.js';
import type { PatientQuery } from '../../src/domain/demographics.js';
import { createSmspClient, SmspClient, type SmspClientOptions, type SmspLimiter } from '../../src/smsp/client.js';
import { OID } from '../../src/smsp/interactions.js';
import { createHttpsTransport, type TlsMaterial } from '../../src/smsp/transport.js';
import {
  createMtlsFixtures,
  readSample,
  respondXml,
  startMtlsServer,
  type MtlsFixtures,
  type MtlsHandler,
  type MtlsServer,
} from '../support/mtls-server.js';

// Synthetic demographics; the answers come from the public TKW templates (OpenTest patients).
const SEARCH: PatientQuery = { familyName: 'SYNTHETIC', givenName: 'TEST', dateOfBirth: '19770705', sex: '2', postcode: 'LS1 6AE' };
const BY_NHS_NUMBER: PatientQuery = { nhsNumber: '9449310580', dateOfBirth: '19960530' };

const GNN_SUCCESS = readSample('sample-tkw-ITK_SMS_PDS-getNHSNumberResponse_SMSP-0000.xml');
const DETAILS_SUCCESS = readSample('sample-tkw-ITK_SMS_PDS-getPatientDetailsByNHSNumberResponse_SMSP-0000.xml');
const FAULT_2100 = readSample('sample-tkw-itk-soapfault-Server-2100.xml');
const FAULT_2200 = readSample('sample-tkw-itk-soapfault-Server-2200.xml');
const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

const answer = (status: number, xml: string): MtlsHandler => (_request, res) => respondXml(res, status, xml);
const busy: MtlsHandler = (_request, res) => res.writeHead(503).end();
const silent: MtlsHandler = () => {};

let pki: MtlsFixtures;
let server: MtlsServer;
let tmpDir: string;
const clients: SmspClient[] = [];

beforeAll(async () => {
  pki = await createMtlsFixtures();
  server = await startMtlsServer({ server: pki.server, clientCa: pki.ca.cert });
  tmpDir = await mkdtemp(path.join(os.tmpdir(), 'pds-trace-client-'));
});

afterAll(async () => {
  await server.close();
  await rm(tmpDir, { recursive: true, force: true });
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  server.requests.length = 0;
});

interface ClientSetup extends Partial<Omit<SmspClientOptions, 'transport'>> {
  tls?: TlsMaterial;
  timeoutMs?: number;
}

/** A client over real mutual TLS to the test server, with small timeouts and back-offs. */
function client(setup: ClientSetup = {}): SmspClient {
  const { tls, timeoutMs, ...options } = setup;
  const url = options.url ?? server.url;
  const created = new SmspClient({
    transport: createHttpsTransport({ url, tls: tls ?? { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert }, timeoutMs: timeoutMs ?? 2_000 }),
    url,
    fromAddress: 'urn:pds-trace:test',
    username: 'test-system',
    auditIdentity: { type: 'asid', uri: '999000000001' },
    retry: { attempts: 3, baseDelayMs: 5 },
    ...options,
  });
  clients.push(created);
  return created;
}

/** Answers the n-th request (0-based) with the n-th handler; the last handler repeats. */
function sequence(...handlers: MtlsHandler[]): MtlsHandler {
  return (request, res, index) => (handlers[Math.min(index, handlers.length - 1)] ?? silent)(request, res, index);
}

describe('SmspClient over mutual TLS', () => {
  it('traces a getNHSNumber search to a matched outcome with one recorded exchange', async () => {
    server.setHandler(answer(200, GNN_SUCCESS));
    const outcome = await client().call('getNHSNumber', SEARCH);

    expect(outcome).toMatchObject({
      interaction: 'getNHSNumber',
      status: 'matched',
      reason: 'ok',
      retryable: false,
      responseCode: 'SMSP-0000',
      nhsNumber: '9449310394',
    });
    expect(outcome.messageId).toMatch(UPPER_UUID);
    expect(outcome.exchanges).toEqual([
      expect.objectContaining({ interaction: 'getNHSNumber', messageId: outcome.messageId, attempt: 1, responseCode: 'SMSP-0000', status: 'matched', reason: 'ok' }),
    ]);
    expect(new Date(outcome.exchanges[0]?.startedAt ?? '').toISOString()).toBe(outcome.exchanges[0]?.startedAt);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers.soapaction).toBe('urn:nhs-itk:services:201005:getNHSNumber-v1-0');
    expect(server.requests[0]?.body).toContain(outcome.messageId);
  });

  it('verifies an NHS number and returns the person PDS holds', async () => {
    server.setHandler(answer(200, DETAILS_SUCCESS));
    const outcome = await client().call('getPatientDetailsByNHSNumber', BY_NHS_NUMBER);

    expect(outcome).toMatchObject({ status: 'verified', responseCode: 'SMSP-0000', nhsNumber: '9449310580' });
    expect(outcome.patient).toMatchObject({ nhsNumber: '9449310580', familyName: 'EASEMAN', givenNames: ['LENARD'], dateOfBirth: '19960530' });
    expect(outcome.patient?.gpPractice?.odsCode).toBe('H81109');
  });

  it('sends the configured audit identity and username, and a per-call username when given', async () => {
    server.setHandler(answer(200, GNN_SUCCESS));
    const asid = client();
    await asid.call('getNHSNumber', SEARCH);
    await asid.call('getNHSNumber', SEARCH, { username: 'analyst-7' });
    await client({ auditIdentity: { type: 'itk', uri: 'urn:nhs-uk:identity:ods:XYZ' } }).call('getNHSNumber', SEARCH);

    const [first, second, third] = server.requests.map((r) => r.body);
    expect(first).toContain(`type="${OID.asidIdentity}"`);
    expect(first).toContain('uri="999000000001"');
    expect(first).toContain('test-system');
    expect(first).toContain(server.url);
    expect(second).toContain('analyst-7');
    expect(second).not.toContain('test-system');
    expect(third).toContain(`type="${OID.itkIdentity}"`);
    expect(third).toContain('uri="urn:nhs-uk:identity:ods:XYZ"');
  });

  it('reuses one TLS connection across sequential calls', async () => {
    server.setHandler(answer(200, GNN_SUCCESS));
    const before = server.secureConnections();
    const c = client();
    await c.call('getNHSNumber', SEARCH);
    await c.call('getNHSNumber', SEARCH);
    expect(server.secureConnections() - before).toBe(1);
  });

  it('answers a query that fails local checks as invalid_input without sending anything', async () => {
    server.setHandler(answer(200, GNN_SUCCESS));
    // 9449310581: the OpenTest number above with a wrong check digit.
    const outcome = await client().call('verifyNHSNumber', { nhsNumber: '9449310581', dateOfBirth: '19960530' });

    expect(outcome).toMatchObject({ status: 'invalid_input', reason: 'nhs_number_check_digit', retryable: false, exchanges: [] });
    expect(outcome.detail).toMatch(/nhsNumber/);
    expect(outcome.detail).not.toContain('9449310581');
    expect(outcome.messageId).toBeUndefined();
    expect(server.requests).toHaveLength(0);
  });

  it('gives a non-retried tls_error when the server is trusted by a different CA', async () => {
    const impostor = await startMtlsServer({ server: pki.otherServer, clientCa: pki.ca.cert, handler: answer(200, GNN_SUCCESS) });
    try {
      const outcome = await client({ url: impostor.url }).call('getNHSNumber', SEARCH);
      expect(outcome).toMatchObject({ status: 'error', reason: 'tls_error', retryable: false });
      expect(outcome.exchanges).toHaveLength(1);
    } finally {
      await impostor.close();
    }
  });

  it.each([
    ['without a client certificate', (f: MtlsFixtures): TlsMaterial => ({ ca: f.ca.cert })],
    ['with a client certificate from another CA', (f: MtlsFixtures): TlsMaterial => ({ cert: f.otherClient.cert, key: f.otherClient.key, ca: f.ca.cert })],
  ])('is refused by the server %s, ending in a bounded error', async (_label, tls) => {
    server.setHandler(answer(200, GNN_SUCCESS));
    const outcome = await client({ tls: tls(pki) }).call('getNHSNumber', SEARCH);

    // A TLS 1.3 client may see the refusal as an alert or as a reset, depending on timing.
    expect(outcome.status).toBe('error');
    expect(['tls_error', 'connection_reset']).toContain(outcome.reason);
    expect(outcome.exchanges.length).toBeGreaterThanOrEqual(1);
    expect(outcome.exchanges.length).toBeLessThanOrEqual(3);
    expect(server.requests).toHaveLength(0);
  });

  it('traces with PKCS#12 client credentials loaded by createSmspClient', async () => {
    const write = async (name: string, content: string) => {
      const file = path.join(tmpDir, name);
      await writeFile(file, content);
      return file;
    };
    const pfxPath = path.join(tmpDir, 'client.p12');
    execFileSync('openssl', [
      'pkcs12', '-export',
      '-in', await write('client.crt', pki.client.cert),
      '-inkey', await write('client.key', pki.client.key),
      '-passout', 'pass:synthetic-passphrase',
      '-out', pfxPath,
    ]);
    const settings: SmspSettings = {
      url: server.url,
      tls: { pfxPath, passphrase: 'synthetic-passphrase', caPath: await write('ca.crt', pki.ca.cert) },
      auditIdentity: { type: 'asid', uri: '999000000001' },
      username: 'test-system',
      fromAddress: 'urn:pds-trace:test',
      timeoutMs: 2_000,
      maxInFlight: 4,
      maxRatePerSecond: 10,
      rateSlackMs: 50,
      retry: { attempts: 1, baseDelayMs: 5 },
    };
    server.setHandler(answer(200, GNN_SUCCESS));
    const created = await createSmspClient(settings);
    clients.push(created);

    const outcome = await created.call('getNHSNumber', SEARCH);
    expect(outcome).toMatchObject({ status: 'matched', nhsNumber: '9449310394' });
    expect(server.requests[0]?.clientCommonName).toBe('pds-trace client');
  });

  it('refuses to create a client without SMSP_URL', async () => {
    const settings = { tls: {}, auditIdentity: { type: 'asid', uri: '1' }, username: 'u', fromAddress: 'f', timeoutMs: 1, maxInFlight: 1, maxRatePerSecond: 1, rateSlackMs: 0, retry: { attempts: 1, baseDelayMs: 1 } } as const;
    await expect(createSmspClient(settings)).rejects.toBeInstanceOf(ConfigError);
  });

  it('retries a timeout the configured number of times, then gives a retryable error', async () => {
    server.setHandler(silent);
    const started = Date.now();
    const outcome = await client({ timeoutMs: 300, retry: { attempts: 2, baseDelayMs: 5 } }).call('getNHSNumber', SEARCH);

    expect(outcome).toMatchObject({ status: 'error', reason: 'timeout', retryable: true });
    expect(outcome.exchanges.map((e) => [e.attempt, e.reason])).toEqual([[1, 'timeout'], [2, 'timeout']]);
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(500);
  });

  it('retries a reset connection, then gives an error (never no_match)', async () => {
    server.setHandler((_request, res) => res.socket?.destroy());
    const outcome = await client().call('getNHSNumber', SEARCH);

    expect(outcome).toMatchObject({ status: 'error', reason: 'connection_reset', retryable: true });
    expect(outcome.exchanges).toHaveLength(3);
  });

  it('retries HTTP 500 with ITK 2100 (processing error, retry)', async () => {
    server.setHandler(answer(500, FAULT_2100));
    const outcome = await client().call('getNHSNumber', SEARCH);

    expect(outcome).toMatchObject({ status: 'error', reason: 'itk_processing_error_retryable', responseCode: 'ITK-2100' });
    expect(outcome.exchanges.map((e) => e.responseCode)).toEqual(['ITK-2100', 'ITK-2100', 'ITK-2100']);
  });

  it('treats HTTP 500 with ITK 2200 as a non-retryable error', async () => {
    server.setHandler(answer(500, FAULT_2200));
    const outcome = await client().call('getNHSNumber', SEARCH);

    expect(outcome).toMatchObject({ status: 'error', reason: 'itk_processing_error', retryable: false, responseCode: 'ITK-2200' });
    expect(outcome.exchanges).toHaveLength(1);
  });

  it('retries HTTP 503 and ends in error provider_busy, never no_match', async () => {
    server.setHandler(busy);
    const outcome = await client().call('getNHSNumber', SEARCH);

    expect(outcome).toMatchObject({ status: 'error', reason: 'provider_busy', responseCode: 'HTTP-503' });
    expect(outcome.exchanges.map((e) => e.status)).toEqual(['error', 'error', 'error']);
  });

  it('succeeds on attempt 2 after a 503, with fresh ids per attempt and both exchanges recorded', async () => {
    server.setHandler(sequence(busy, answer(200, GNN_SUCCESS)));
    const outcome = await client().call('getNHSNumber', SEARCH);

    expect(outcome).toMatchObject({ status: 'matched', responseCode: 'SMSP-0000' });
    expect(outcome.exchanges.map((e) => [e.attempt, e.status, e.reason, e.responseCode])).toEqual([
      [1, 'error', 'provider_busy', 'HTTP-503'],
      [2, 'matched', 'ok', 'SMSP-0000'],
    ]);
    const [first, second] = outcome.exchanges;
    expect(first?.messageId).not.toBe(second?.messageId);
    expect(outcome.messageId).toBe(second?.messageId);
  });

  it('waits a jittered exponential back-off between attempts', async () => {
    server.setHandler(busy);
    const waits: number[] = [];
    await client({
      retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms);
      },
    }).call('getNHSNumber', SEARCH);
    expect(waits).toEqual([50, 100, 125]);
  });

  it('holds the limiter once per attempt and reports which attempts met a busy provider', async () => {
    server.setHandler(sequence(busy, answer(200, GNN_SUCCESS)));
    const events: string[] = [];
    const limiter: SmspLimiter = {
      acquire: async () => {
        events.push('acquire');
        return ({ busy: wasBusy }) => events.push(`release busy=${wasBusy}`);
      },
    };
    const outcome = await client({ limiter }).call('getNHSNumber', SEARCH);

    expect(outcome.status).toBe('matched');
    expect(events).toEqual(['acquire', 'release busy=true', 'acquire', 'release busy=false']);
  });

  it('gives the slot back once an answer is read, so the next request goes out before the answer is parsed', async () => {
    const events: string[] = [];
    let sends = 0;
    // The answer's body is read only to parse it: the getter marks the parse.
    const transport = {
      send: async () => {
        const n = ++sends;
        events.push(`send ${n}`);
        return {
          status: 200,
          get body() {
            events.push(`parse ${n}`);
            return GNN_SUCCESS;
          },
        };
      },
    };
    // One slot: the second call waits for the first call's release.
    const waiting: Array<() => void> = [];
    let free = 1;
    const limiter: SmspLimiter = {
      acquire: () =>
        new Promise((resolve) => {
          const grant = () => resolve(() => (waiting.length > 0 ? waiting.shift()!() : free++));
          if (free > 0) {
            free--;
            grant();
          } else waiting.push(grant);
        }),
    };
    const smsp = new SmspClient({ transport, url: 'https://smsp.invalid/', fromAddress: 'urn:pds-trace:test', username: 'u', auditIdentity: { type: 'asid', uri: '999000000001' }, retry: { attempts: 1, baseDelayMs: 1 }, limiter });
    const outcomes = await Promise.all([smsp.call('getNHSNumber', SEARCH), smsp.call('getNHSNumber', SEARCH)]);

    expect(outcomes.map((o) => o.status)).toEqual(['matched', 'matched']);
    expect(events).toEqual(['send 1', 'send 2', 'parse 1', 'parse 2']);
  });

  it('stops an in-flight call as a non-retryable aborted error when the caller aborts', async () => {
    server.setHandler(silent);
    const controller = new AbortController();
    // Aborted once the server holds the request, so it is never counted in a later test's requests.
    const abortOnArrival = setInterval(() => {
      if (server.requests.length > 0) {
        clearInterval(abortOnArrival);
        controller.abort();
      }
    }, 5);
    const started = Date.now();
    const outcome = await client({ timeoutMs: 10_000 }).call('getNHSNumber', SEARCH, { signal: controller.signal });

    expect(outcome).toMatchObject({ status: 'error', reason: 'aborted', retryable: false });
    expect(outcome.exchanges).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops during the back-off when the caller aborts, without another attempt', async () => {
    server.setHandler(busy);
    const controller = new AbortController();
    const outcome = await client({
      retry: { attempts: 5, baseDelayMs: 60_000 },
      random: () => 0.99,
      limiter: {
        acquire: async () => () => setTimeout(() => controller.abort(), 20),
      },
    }).call('getNHSNumber', SEARCH, { signal: controller.signal });

    expect(outcome).toMatchObject({ status: 'error', reason: 'aborted', retryable: false });
    expect(outcome.exchanges.map((e) => e.reason)).toEqual(['provider_busy']);
    expect(server.requests).toHaveLength(1);
  });
});
