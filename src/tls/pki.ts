import { generate } from 'selfsigned';

/**
 * Throwaway certificate authorities and leaf certificates for mutual TLS with the built-in
 * simulator and in tests. Keys are generated fresh each time and never committed. The real SMSP
 * uses NHS-issued certificates (SMSP_TLS_* settings); nothing here is used against it.
 */

export interface KeyPair {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

export interface IssueOptions {
  commonName: string;
  /** DNS names and IP addresses for the subjectAltName of a server certificate. */
  hosts?: string[];
  usage: 'server' | 'client';
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

// Node 20 / OpenSSL 3 refuse selfsigned's default sha1 signatures (ERR_SSL_CA_MD_TOO_WEAK).
const ALGORITHM = 'sha256';

export async function createCertificateAuthority(commonName = 'pds-trace throwaway CA'): Promise<KeyPair> {
  const notBeforeDate = new Date(Date.now() - DAY_MS);
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: ALGORITHM,
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 366 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export async function issueCertificate(ca: KeyPair, options: IssueOptions): Promise<KeyPair> {
  const notBeforeDate = options.notBefore ?? new Date(Date.now() - DAY_MS);
  const notAfterDate = options.notAfter ?? new Date(notBeforeDate.getTime() + 365 * DAY_MS);
  const hosts = options.hosts ?? [];
  const altNames = hosts.map((h) =>
    /^[\d.]+$/.test(h) || h.includes(':') ? ({ type: 7, ip: h } as const) : ({ type: 2, value: h } as const),
  );
  const pems = await generate([{ name: 'commonName', value: options.commonName }], {
    keyType: 'ec',
    algorithm: ALGORITHM,
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: options.usage === 'server', clientAuth: options.usage === 'client' },
      ...(altNames.length > 0 ? [{ name: 'subjectAltName' as const, altNames }] : []),
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A CA with one server certificate (for `hosts`) and one client certificate it signed. */
export interface TestPki {
  ca: KeyPair;
  server: KeyPair;
  client: KeyPair;
}

export async function createPki(hosts: string[] = ['localhost', '127.0.0.1', '::1']): Promise<TestPki> {
  const ca = await createCertificateAuthority();
  const [server, client] = await Promise.all([
    issueCertificate(ca, { commonName: hosts[0] ?? 'localhost', hosts, usage: 'server' }),
    issueCertificate(ca, { commonName: 'pds-trace client', usage: 'client' }),
  ]);
  return { ca, server, client };
}
