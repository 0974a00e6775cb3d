import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { sharedDir } from './shared-dir.js';
import { createCertificateAuthority, createPki, issueCertificate, type KeyPair, type TestPki } from '../../src/tls/pki.js';

/**
 * A small HTTPS server that demands a client certificate (mutual TLS, as SMSP does, SPEC §1), for
 * transport and client tests over real sockets. Each request is recorded; a handler decides the answer.
 */

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The client certificate's subject CN, as the server verified it. */
  clientCommonName: string | undefined;
}

/** Answers one request. `index` counts requests from 0, so tests can script sequences (503 then 200). */
export type MtlsHandler = (request: RecordedRequest, res: ServerResponse, index: number) => void;

export interface MtlsServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** TLS handshakes completed: two requests over one kept-alive connection count one. */
  secureConnections: () => number;
  setHandler(handler: MtlsHandler): void;
  close(): Promise<void>;
}

export interface MtlsServerOptions {
  /** The server's own certificate. */
  server: KeyPair;
  /** CA(s) trusted to sign client certificates. */
  clientCa: string;
  handler?: MtlsHandler;
}

export async function startMtlsServer(options: MtlsServerOptions): Promise<MtlsServer> {
  let handler: MtlsHandler = options.handler ?? ((_request, res) => res.writeHead(200).end());
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let handshakes = 0;

  const server = https.createServer(
    { cert: options.server.cert, key: options.server.key, ca: options.clientCa, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          clientCommonName: typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined,
        };
        requests.push(recorded);
        handler(recorded, res, requests.length - 1);
      });
    },
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => handshakes++);
  // Refused handshakes are the point of some tests; keep them out of the test output.
  server.on('tlsClientError', () => {});

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}/smsp/pds`,
    port,
    requests,
    secureConnections: () => handshakes,
    setHandler: (next) => {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging handlers (timeout tests) leave sockets open; destroy them so close() returns.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Certificates for the mutual-TLS cases: the trusted PKI and a second, unrelated CA. */
export interface MtlsFixtures extends TestPki {
  /** A CA nobody trusts, with a server and a client certificate of its own. */
  otherCa: KeyPair;
  otherServer: KeyPair;
  otherClient: KeyPair;
}

export async function createMtlsFixtures(): Promise<MtlsFixtures> {
  const [pki, otherCa] = await Promise.all([createPki(['127.0.0.1', 'localhost']), createCertificateAuthority('untrusted CA')]);
  const [otherServer, otherClient] = await Promise.all([
    issueCertificate(otherCa, { commonName: '127.0.0.1', hosts: ['127.0.0.1'], usage: 'server' }),
    issueCertificate(otherCa, { commonName: 'stranger client', usage: 'client' }),
  ]);
  return { ...pki, otherCa, otherServer, otherClient };
}

/** A public sample file, unchanged (see shared/smsp/samples/SOURCES.md). */
export function readSample(name: string): string {
  return readFileSync(path.join(sharedDir(), 'smsp', 'samples', name), 'utf8');
}

/**
 * Wraps a TKW template (a bare DistributionEnvelope or soap:Fault) in the SOAP 1.1 envelope a
 * provider sends, filling the fault template's placeholders.
 */
export function soapEnvelope(bodyXml: string): string {
  const filled = bodyXml
    .replaceAll('__ERRORID__', 'E1B2C3D4-0000-4000-8000-000000000001')
    .replaceAll('__ERRORTEXT__', 'synthetic fault')
    .replaceAll('__ERRORDETAIL__', 'synthetic diagnostic');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/><soap:Body>' +
    filled +
    '</soap:Body></soap:Envelope>'
  );
}

/** Answers with a SOAP envelope around `bodyXml`, as text/xml. */
export function respondXml(res: ServerResponse, status: number, bodyXml: string): void {
  res.writeHead(status, { 'Content-Type': 'text/xml; charset=UTF-8' }).end(soapEnvelope(bodyXml));
}
