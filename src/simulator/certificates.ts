import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPki, type KeyPair } from '../tls/pki.js';

/**
 * Certificates for the simulator's mutual TLS when none are configured: a throwaway CA, a server
 * certificate for localhost / 127.0.0.1 / ::1 and a client certificate, written as PEM files into a
 * folder so any SMSP client can be pointed at the simulator in one step (SMSP_TLS_CERT / _KEY / _CA).
 * A folder that already holds a complete set is reused, so a client configured against
 * `--cert-dir` keeps working across restarts. The CA's private key is never written.
 */

export const CERTIFICATE_FILES = {
  ca: 'ca.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
} as const;

export type CertificatePaths = { [K in keyof typeof CERTIFICATE_FILES]: string };

export interface SimulatorCertificates {
  dir: string;
  paths: CertificatePaths;
  /** PEM text. */
  ca: string;
  server: KeyPair;
  client: KeyPair;
  /** True when the folder was made here (a fresh temporary folder), so closing may remove it. */
  temporary: boolean;
}

/** Loads a complete set from `certDir`, or generates one into it (or into a fresh temporary folder). */
export async function prepareCertificates(options: { certDir?: string; serverNames?: string[] } = {}): Promise<SimulatorCertificates> {
  const temporary = options.certDir === undefined;
  const dir = options.certDir === undefined ? await mkdtemp(path.join(tmpdir(), 'pds-trace-simulator-')) : path.resolve(options.certDir);
  const paths = Object.fromEntries(
    Object.entries(CERTIFICATE_FILES).map(([key, file]) => [key, path.join(dir, file)]),
  ) as CertificatePaths;
  if (!temporary && (await allExist(Object.values(paths)))) {
    const [ca, serverCert, serverKey, clientCert, clientKey] = await Promise.all(
      [paths.ca, paths.serverCert, paths.serverKey, paths.clientCert, paths.clientKey].map((file) => readFile(file, 'utf8')),
    );
    return { dir, paths, ca: ca!, server: { cert: serverCert!, key: serverKey! }, client: { cert: clientCert!, key: clientKey! }, temporary };
  }
  // Extra names let clients on other hosts (e.g. the `simulator` service in docker-compose) verify it.
  const pki = await createPki(['localhost', '127.0.0.1', '::1', ...(options.serverNames ?? [])]);
  // The folder holds private keys: owner only.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await Promise.all([
    writeFile(paths.ca, pki.ca.cert, { mode: 0o644 }),
    writeFile(paths.serverCert, pki.server.cert, { mode: 0o644 }),
    writeFile(paths.clientCert, pki.client.cert, { mode: 0o644 }),
    writeKey(paths.serverKey, pki.server.key),
    writeKey(paths.clientKey, pki.client.key),
  ]);
  return { dir, paths, ca: pki.ca.cert, server: pki.server, client: pki.client, temporary };
}

/** Removes a folder `prepareCertificates` created; a folder the user named is left alone. */
export async function discardCertificates(certificates: SimulatorCertificates): Promise<void> {
  if (certificates.temporary) await rm(certificates.dir, { recursive: true, force: true });
}

async function writeKey(file: string, pem: string): Promise<void> {
  await writeFile(file, pem, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file; an old key file keeps its mode otherwise.
  await chmod(file, 0o600);
}

async function allExist(files: readonly string[]): Promise<boolean> {
  try {
    await Promise.all(files.map((file) => access(file)));
    return true;
  } catch {
    return false;
  }
}
