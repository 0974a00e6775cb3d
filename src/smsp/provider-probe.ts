import net from 'node:net';
import tls from 'node:tls';
import { isTlsErrorCode, type TlsMaterial } from './transport.js';

/** Why the provider could not be reached: the network, or the mutual-TLS handshake. */
export interface ProbeFailure {
  kind: 'network' | 'tls';
  /** Node's error code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, ...) or `timeout`. */
  code: string;
}

/**
 * Opens one mutual-TLS connection to the provider and closes it, sending nothing: whether SMSP can
 * be reached at all with this certificate, known before a batch is made or a request counted
 * against the limits. Certificate verification is on, as for every request.
 */
export function probeProvider(url: string, material: TlsMaterial, timeoutMs: number): Promise<ProbeFailure | undefined> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port: Number(target.port || 443),
      servername: net.isIP(host) ? undefined : host,
      secureContext: tls.createSecureContext(material),
      rejectUnauthorized: true,
    });
    const finish = (failure?: ProbeFailure) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(failure);
    };
    const timer = setTimeout(() => finish({ kind: 'network', code: 'timeout' }), timeoutMs);
    socket.once('secureConnect', () => finish());
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.name;
      finish({ kind: isTlsErrorCode(code) ? 'tls' : 'network', code });
    });
  });
}
