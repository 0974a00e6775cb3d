import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createPki } from '../../src/tls/pki.js';

/** A throwaway CA and a server certificate for 127.0.0.1/localhost, written as PEM files for PDS_TRACE_WEB_TLS_*. */
export async function writeServerCertificate(dir: string): Promise<{ cert: string; key: string; ca: string }> {
  const pki = await createPki(['127.0.0.1', 'localhost']);
  const files = { cert: path.join(dir, 'web.crt'), key: path.join(dir, 'web.key'), ca: path.join(dir, 'web-ca.crt') };
  await writeFile(files.cert, pki.server.cert);
  await writeFile(files.key, pki.server.key, { mode: 0o600 });
  await writeFile(files.ca, pki.ca.cert);
  return files;
}
