import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { TlsMaterial } from '../smsp/transport.js';

/**
 * The certificates inside the client's TLS material, for the doctor to read their dates and
 * issuers. The material itself is read and checked by the SMSP client's own loader
 * (`loadTlsMaterial`: files readable, key matches, passphrase right), so the doctor judges what the
 * client will use.
 */

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function certificatesInPem(pem: string | Buffer): X509Certificate[] {
  return (pem.toString().match(PEM_CERTIFICATE) ?? []).map((block) => new X509Certificate(block));
}

/**
 * A PKCS#12 file's certificates, without a PKCS#12 parser of our own: OpenSSL opens the file for a
 * throwaway TLS server on the loopback interface, and a client reads back the chain it presents.
 */
async function certificatesInPfx(material: TlsMaterial): Promise<X509Certificate[]> {
  const server = tls.createServer({ pfx: material.pfx, passphrase: material.passphrase });
  server.on('secureConnection', (socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const certificates: X509Certificate[] = [];
    const seen = new Set<string>();
    let peer = socket.getPeerCertificate(true);
    while (peer?.raw && !seen.has(peer.fingerprint256)) {
      seen.add(peer.fingerprint256);
      certificates.push(new X509Certificate(peer.raw));
      peer = peer.issuerCertificate;
    }
    socket.destroy();
    return certificates;
  } finally {
    server.close();
  }
}

/** Our certificate first, then any that came with it (intermediates, and the CA a PKCS#12 file carries). */
export async function clientCertificates(material: TlsMaterial): Promise<X509Certificate[]> {
  if (material.pfx) return certificatesInPfx(material);
  return material.cert ? certificatesInPem(material.cert) : [];
}
