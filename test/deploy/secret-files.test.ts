import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { tempFolder } from '../audit/fixtures.js';
import { provisionServiceAccount } from '../support/accounts.js';
import { ensureBuiltCli, runBuiltCli } from '../support/built-cli.js';

/**
 * Secrets as files (Compose secrets under /run/secrets, systemd credentials): the audit database
 * URL, the PKCS#12 passphrase and the service token each come from a file named by `<NAME>_FILE`,
 * so no secret has to sit in a container's or a unit's environment.
 */

let folder: { dir: string; remove: () => Promise<void> };

beforeEach(async () => {
  folder = await tempFolder('pds-trace-secret-files-');
});

afterEach(async () => {
  await folder.remove();
});

async function secretFile(name: string, content: string): Promise<string> {
  const file = path.join(folder.dir, name);
  await writeFile(file, content, { mode: 0o600 });
  return file;
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, folder.dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('settings read from a *_FILE', () => {
  it('takes AUDIT_DATABASE_URL and SMSP_TLS_PASSPHRASE from their files, without the trailing line end', async () => {
    const url = await secretFile('audit-database-url', 'postgres://pds_trace_app:s3cret@postgres:5432/pds_trace\n');
    await secretFile('passphrase', 'pfx passphrase\r\n');
    const config = loadConfig({ AUDIT_DATABASE_URL_FILE: url, SMSP_TLS_PASSPHRASE_FILE: 'passphrase' }, folder.dir);
    expect(config.auditDatabaseUrl).toBe('postgres://pds_trace_app:s3cret@postgres:5432/pds_trace');
    expect(config.smsp.tls.passphrase).toBe('pfx passphrase');
  });

  it('validates the file content as the setting itself', async () => {
    const url = await secretFile('audit-database-url', 'mysql://nobody@db/x\n');
    expect(problemsOf({ AUDIT_DATABASE_URL_FILE: url }).join('\n')).toMatch(/^AUDIT_DATABASE_URL: /m);
  });

  it('refuses the setting and its file together, an unreadable file and an empty one, naming the setting and never the secret', async () => {
    const url = await secretFile('audit-database-url', 'postgres://pds_trace_app:s3cret@postgres/pds_trace');
    const both = problemsOf({ AUDIT_DATABASE_URL: 'postgres://pds_trace_app:other@postgres/pds_trace', AUDIT_DATABASE_URL_FILE: url });
    expect(both).toEqual(['AUDIT_DATABASE_URL_FILE: AUDIT_DATABASE_URL is set too; give the secret one way']);

    const missing = problemsOf({ AUDIT_DATABASE_URL_FILE: path.join(folder.dir, 'absent') });
    expect(missing).toEqual([`AUDIT_DATABASE_URL_FILE: cannot read ${path.join(folder.dir, 'absent')} (ENOENT)`]);

    const empty = await secretFile('empty', '\n');
    expect(problemsOf({ SMSP_TLS_PASSPHRASE_FILE: empty })).toEqual([`SMSP_TLS_PASSPHRASE_FILE: ${empty} is empty`]);

    expect([...both, ...missing].join('\n')).not.toContain('s3cret');
  });

  it('counts an empty *_FILE as unset, as every other setting', () => {
    expect(loadConfig({ AUDIT_DATABASE_URL_FILE: '' }, folder.dir).auditDatabaseUrl).toBeUndefined();
  });
});

describe('a service account signing in with PDS_TRACE_SERVICE_TOKEN_FILE', () => {
  it('signs the built command in with the token read from the file, and refuses a wrong one', async () => {
    ensureBuiltCli();
    const dataDir = path.join(folder.dir, 'data');
    const credentials = await provisionServiceAccount(dataDir);
    const tokenFile = await secretFile('service-token', `${credentials.PDS_TRACE_SERVICE_TOKEN}\n`);
    const env = { PDS_TRACE_DATA_DIR: dataDir, PDS_TRACE_SERVICE_ACCOUNT: credentials.PDS_TRACE_SERVICE_ACCOUNT!, PDS_TRACE_SERVICE_TOKEN_FILE: tokenFile };

    const signedIn = runBuiltCli(['status', '--json'], env);
    expect(await signedIn.exited).toBe(0);
    expect(signedIn.stderr()).toContain(`Signed in as ${credentials.PDS_TRACE_SERVICE_ACCOUNT} (`);
    expect(signedIn.stdout().trim()).toBe('[]');

    await writeFile(tokenFile, 'pdst_not-the-token\n');
    await chmod(tokenFile, 0o600);
    const refused = runBuiltCli(['status', '--json'], env);
    expect(await refused.exited).toBe(6);

    const both = runBuiltCli(['status', '--json'], { ...env, PDS_TRACE_SERVICE_TOKEN: credentials.PDS_TRACE_SERVICE_TOKEN! });
    expect(await both.exited).toBe(2);
    expect(both.stderr()).toContain('both PDS_TRACE_SERVICE_TOKEN and PDS_TRACE_SERVICE_TOKEN_FILE are set');

    const unreadable = runBuiltCli(['status', '--json'], { ...env, PDS_TRACE_SERVICE_TOKEN_FILE: path.join(folder.dir, 'absent') });
    expect(await unreadable.exited).toBe(3);
    expect(unreadable.stderr()).toContain('PDS_TRACE_SERVICE_TOKEN_FILE: cannot read');
  }, 180_000);
});
