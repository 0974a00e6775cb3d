import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmspTransportError } from '../../src/smsp/errors.js';
import { INTERACTION_SPECS } from '../../src/smsp/interactions.js';
import {
  createHttpsTransport,
  loadTlsMaterial,
  TlsMaterialError,
  type HttpsTransportOptions,
  type SmspTransport,
  type TlsMaterial,
} from '../../src/smsp/transport.js';
import type { SmspRequest } from '../../src/smsp/types.js';
import { issueCertificate } from '../../src/tls/pki.js';
import { createMtlsFixtures, startMtlsServer, type MtlsFixtures, type MtlsServer } from '../support/mtls-server.js';

const REQUEST: SmspRequest = {
  interaction: 'getNHSNumber',
  soapAction: INTERACTION_SPECS.getNHSNumber.service,
  messageId: 'A1B2C3D4-0000-4000-8000-000000000001',
  body: '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>SYNTHETIC-MARKER</soap:Body></soap:Envelope>',
};

let pki: MtlsFixtures;
let server: MtlsServer;
let tmpDir: string;
const transports: SmspTransport[] = [];

beforeAll(async () => {
  pki = await createMtlsFixtures();
  server = await startMtlsServer({ server: pki.server, clientCa: pki.ca.cert });
  tmpDir = await mkdtemp(path.join(os.tmpdir(), 'pds-trace-transport-'));
});

afterAll(async () => {
  await server.close();
  await rm(tmpDir, { recursive: true, force: true });
});

afterEach(() => {
  for (const transport of transports.splice(0)) transport.close?.();
  server.requests.length = 0;
  server.setHandler((_request, res) => res.writeHead(200).end());
});

function trustedTls(): TlsMaterial {
  return { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert };
}

function transport(overrides: Partial<HttpsTransportOptions> = {}): SmspTransport {
  const created = createHttpsTransport({ url: server.url, tls: trustedTls(), timeoutMs: 2_000, ...overrides });
  transports.push(created);
  return created;
}

/** The SmspTransportError a send rejects with (fails the test if it resolves). */
async function sendError(t: SmspTransport, signal?: AbortSignal): Promise<SmspTransportError> {
  const error: unknown = await t.send(REQUEST, signal).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SmspTransportError);
  return error as SmspTransportError;
}

describe('createHttpsTransport over mutual TLS', () => {
  it('posts the SOAP body with text/xml, an unquoted SOAPAction and the client certificate', async () => {
    server.setHandler((_request, res) => res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<answer/>'));
    const response = await transport().send(REQUEST);

    expect(response).toEqual({ status: 200, body: '<answer/>' });
    const [seen] = server.requests;
    expect(seen?.method).toBe('POST');
    expect(seen?.url).toBe('/smsp/pds');
    expect(seen?.headers['content-type']).toBe('text/xml; charset=UTF-8');
    expect(seen?.headers.soapaction).toBe('urn:nhs-itk:services:201005:getNHSNumber-v1-0');
    expect(seen?.body).toBe(REQUEST.body);
    expect(seen?.clientCommonName).toBe('pds-trace client');
  });

  it('sends a body holding multi-byte characters whole, with its length in bytes', async () => {
    const body = REQUEST.body.replace('SYNTHETIC-MARKER', 'ZOË O’BRIEN 𝔸');
    await transport().send({ ...REQUEST, body });
    expect(server.requests[0]?.body).toBe(body);
    expect(server.requests[0]?.headers['content-length']).toBe(String(Buffer.byteLength(body, 'utf8')));
  });

  it('says when the request has gone out, once, before the answer is read', async () => {
    const events: string[] = [];
    const response = transport().send(REQUEST, undefined, () => events.push('sent'));
    await response.then(() => events.push('answered'));
    expect(events).toEqual(['sent', 'answered']);
  });

  it('counts a request on a new connection as sent no earlier than the server read it', async () => {
    let readAt = Infinity;
    server.setHandler((_request, res) => {
      readAt = performance.now();
      setTimeout(() => res.writeHead(200).end(), 100);
    });
    let sentAt = 0;
    await transport().send(REQUEST, undefined, () => (sentAt = performance.now()));
    expect(sentAt).toBeGreaterThanOrEqual(readAt);
  });

  it('counts a request on a kept-alive connection as sent once written, before its answer', async () => {
    let answeredAt = 0;
    server.setHandler((_request, res) => {
      setTimeout(() => {
        answeredAt = performance.now();
        res.writeHead(200).end();
      }, 100);
    });
    const kept = transport();
    const before = server.secureConnections();
    await kept.send(REQUEST);
    let sentAt = Infinity;
    await kept.send(REQUEST, undefined, () => (sentAt = performance.now()));
    expect(server.secureConnections() - before).toBe(1);
    expect(sentAt).toBeLessThan(answeredAt);
  });

  it('quotes the SOAPAction when configured to', async () => {
    await transport({ soapActionQuoted: true }).send(REQUEST);
    expect(server.requests[0]?.headers.soapaction).toBe('"urn:nhs-itk:services:201005:getNHSNumber-v1-0"');
  });

  it('returns HTTP 500 bodies to the caller, since they carry SOAP faults', async () => {
    server.setHandler((_request, res) => res.writeHead(500).end('<soap:Fault/>'));
    await expect(transport().send(REQUEST)).resolves.toEqual({ status: 500, body: '<soap:Fault/>' });
  });

  it('treats HTTP 503 as a retryable provider_busy error', async () => {
    server.setHandler((_request, res) => res.writeHead(503).end('busy'));
    const error = await sendError(transport());
    expect(error).toMatchObject({ reason: 'provider_busy', retryable: true, httpStatus: 503, interaction: 'getNHSNumber' });
  });

  it.each([
    [502, true],
    [504, true],
    [400, false],
    [404, false],
    [202, false],
  ])('treats HTTP %i as an http_status error (retryable: %s)', async (status, retryable) => {
    server.setHandler((_request, res) => res.writeHead(status).end());
    const error = await sendError(transport());
    expect(error).toMatchObject({ reason: 'http_status', retryable, httpStatus: status });
  });

  it('reuses one kept-alive TLS connection for sequential requests', async () => {
    const before = server.secureConnections();
    const t = transport();
    await t.send(REQUEST);
    await t.send(REQUEST);
    await t.send(REQUEST);
    expect(server.requests).toHaveLength(3);
    expect(server.secureConnections() - before).toBe(1);
  });

  it('keeps the connection after an HTTP 503, so a retry needs no new handshake', async () => {
    server.setHandler((_request, res, index) => res.writeHead(index === 0 ? 503 : 200).end('answer'));
    const before = server.secureConnections();
    const t = transport();
    await expect(t.send(REQUEST)).rejects.toMatchObject({ reason: 'provider_busy' });
    await expect(t.send(REQUEST)).resolves.toEqual({ status: 200, body: 'answer' });
    expect(server.secureConnections() - before).toBe(1);
  });

  it('gives up with a retryable timeout when the server never answers', async () => {
    server.setHandler(() => {});
    const started = Date.now();
    const error = await sendError(transport({ timeoutMs: 300 }));
    const elapsed = Date.now() - started;

    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5_000);
    // Messages reach logs: they name the interaction, never the request content.
    expect(error.message).not.toContain('SYNTHETIC-MARKER');
  });

  it('reports a reset connection as retryable connection_reset', async () => {
    server.setHandler((_request, res) => res.socket?.destroy());
    const error = await sendError(transport());
    expect(error).toMatchObject({ reason: 'connection_reset', retryable: true });
  });

  it('reports a refused connection as retryable connection_refused', async () => {
    const closed = await startMtlsServer({ server: pki.server, clientCa: pki.ca.cert });
    await closed.close();
    const error = await sendError(transport({ url: closed.url }));
    expect(error).toMatchObject({ reason: 'connection_refused', retryable: true });
  });

  it('refuses a server whose certificate another CA signed, as a non-retryable tls_error', async () => {
    const impostor = await startMtlsServer({ server: pki.otherServer, clientCa: pki.ca.cert });
    try {
      const error = await sendError(transport({ url: impostor.url }));
      expect(error).toMatchObject({ reason: 'tls_error', retryable: false });
      expect(impostor.requests).toHaveLength(0);
    } finally {
      await impostor.close();
    }
  });

  it('refuses a server whose certificate the trusted CA issued for another host name, as a non-retryable tls_error', async () => {
    const elsewhere = await issueCertificate(pki.ca, { commonName: 'smsp.example.org', hosts: ['smsp.example.org'], usage: 'server' });
    const misnamed = await startMtlsServer({ server: elsewhere, clientCa: pki.ca.cert });
    try {
      const error = await sendError(transport({ url: misnamed.url }));
      expect(error).toMatchObject({ reason: 'tls_error', retryable: false });
      expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(misnamed.requests).toHaveLength(0);
    } finally {
      await misnamed.close();
    }
  });

  it('is refused by the server without a client certificate', async () => {
    const error = await sendError(transport({ tls: { ca: pki.ca.cert } }));
    // TLS 1.3 sends the server's verdict after the client's Finished, so the client sees either the
    // alert or a reset depending on timing; either way the server never answers the request.
    expect(['tls_error', 'connection_reset']).toContain(error.reason);
    expect(server.requests).toHaveLength(0);
  });

  it('is refused by the server with a client certificate from another CA', async () => {
    const error = await sendError(transport({ tls: { cert: pki.otherClient.cert, key: pki.otherClient.key, ca: pki.ca.cert } }));
    expect(['tls_error', 'connection_reset']).toContain(error.reason);
    expect(server.requests).toHaveLength(0);
  });

  it('stops at once as non-retryable aborted when the caller aborts', async () => {
    server.setHandler(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error = await sendError(transport({ timeoutMs: 10_000 }), controller.signal);
    expect(error).toMatchObject({ reason: 'aborted', retryable: false });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('sends nothing when the signal has already aborted', async () => {
    const error = await sendError(transport(), AbortSignal.abort());
    expect(error).toMatchObject({ reason: 'aborted', retryable: false });
    expect(server.requests).toHaveLength(0);
  });

  it('rejects a response larger than the size cap as a non-retryable malformed_response', async () => {
    server.setHandler((_request, res) => res.writeHead(200).end('x'.repeat(64 * 1024)));
    const error = await sendError(transport({ maxResponseBytes: 1024 }));
    expect(error).toMatchObject({ reason: 'malformed_response', retryable: false, httpStatus: 200 });
  });

  it('refuses a plain-http URL', () => {
    expect(() => createHttpsTransport({ url: 'http://127.0.0.1/smsp/pds', tls: trustedTls(), timeoutMs: 1_000 })).toThrow(/https/);
  });
});

describe('loadTlsMaterial', () => {
  async function writeTemp(name: string, content: string): Promise<string> {
    const file = path.join(tmpDir, name);
    await writeFile(file, content);
    return file;
  }

  it('reads PEM certificate, key and CA paths into working client credentials', async () => {
    const material = await loadTlsMaterial({
      certPath: await writeTemp('client.crt', pki.client.cert),
      keyPath: await writeTemp('client.key', pki.client.key),
      caPath: await writeTemp('ca.crt', pki.ca.cert),
    });
    await expect(transport({ tls: material }).send(REQUEST)).resolves.toMatchObject({ status: 200 });
    expect(server.requests[0]?.clientCommonName).toBe('pds-trace client');
  });

  it('reads a PKCS#12 file with its passphrase, the form NHS issues', async () => {
    const pfxPath = path.join(tmpDir, 'client.p12');
    execFileSync('openssl', [
      'pkcs12', '-export',
      '-in', await writeTemp('p12-client.crt', pki.client.cert),
      '-inkey', await writeTemp('p12-client.key', pki.client.key),
      '-certfile', await writeTemp('p12-ca.crt', pki.ca.cert),
      '-passout', 'pass:synthetic-passphrase',
      '-out', pfxPath,
    ]);
    const material = await loadTlsMaterial({ pfxPath, passphrase: 'synthetic-passphrase', caPath: path.join(tmpDir, 'p12-ca.crt') });

    expect(Buffer.isBuffer(material.pfx)).toBe(true);
    await expect(transport({ tls: material }).send(REQUEST)).resolves.toMatchObject({ status: 200 });
    expect(server.requests[0]?.clientCommonName).toBe('pds-trace client');
  });

  it('names the setting whose file cannot be read', async () => {
    const error: unknown = await loadTlsMaterial({ certPath: path.join(tmpDir, 'missing.crt'), keyPath: path.join(tmpDir, 'missing.key') }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TlsMaterialError);
    expect((error as TlsMaterialError).setting).toMatch(/^SMSP_TLS_(CERT|KEY)$/);
    expect((error as TlsMaterialError).message).toMatch(/^SMSP_TLS_(CERT|KEY): cannot read .*ENOENT/);
  });

  it('names SMSP_TLS_PFX when the PKCS#12 passphrase is wrong', async () => {
    const pfxPath = path.join(tmpDir, 'wrong-pass.p12');
    execFileSync('openssl', [
      'pkcs12', '-export',
      '-in', await writeTemp('wp-client.crt', pki.client.cert),
      '-inkey', await writeTemp('wp-client.key', pki.client.key),
      '-passout', 'pass:right-passphrase',
      '-out', pfxPath,
    ]);
    await expect(loadTlsMaterial({ pfxPath, passphrase: 'wrong-passphrase' })).rejects.toMatchObject({
      name: 'TlsMaterialError',
      setting: 'SMSP_TLS_PFX',
    });
  });
});
