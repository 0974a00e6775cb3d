import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStorePinError, PIN_FILE, pinOf, readPin, writePin } from '../../src/audit/store-pin.js';
import { openAuditStore } from '../../src/audit/store.js';
import { hashPassword } from '../../src/auth/password.js';
import { UserStore } from '../../src/auth/users.js';
import { EXIT } from '../../src/cli/errors.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { runCli } from '../auth/cli-harness.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from '../auth/fixtures.js';
import { sampleEvents, tempFolder } from './fixtures.js';

const PG_URL = 'postgres://pds_trace_app:s3cret@db.example:5433/audit';
const PG_PIN = { store: 'postgresql', host: 'db.example', port: 5433, database: 'audit', schema: 'pds_trace_audit' } as const;

let folder: { dir: string; remove: () => Promise<void> };

beforeEach(async () => {
  folder = await tempFolder('pds-trace-pin-');
});

afterEach(async () => {
  await folder.remove();
});

describe('the audit store pin', () => {
  it('pins the data folder to the store it uses at first use', async () => {
    const store = await openAuditStore({ dataDir: folder.dir });
    await store.append(sampleEvents(1));
    expect(await readPin(folder.dir)).toEqual({ store: 'file' });
  });

  it('identifies a PostgreSQL store by host, port, database and schema, never by user or password', async () => {
    expect(pinOf({ auditDatabaseUrl: PG_URL })).toEqual(PG_PIN);
    await writePin(folder.dir, pinOf({ auditDatabaseUrl: PG_URL }));
    const text = await readFile(path.join(folder.dir, PIN_FILE), 'utf8');
    expect(text).not.toMatch(/s3cret|pds_trace_app/);
    // Another runtime role or password on the same database is the same store.
    expect(pinOf({ auditDatabaseUrl: 'postgres://other:x@DB.example:5433/audit' })).toEqual(PG_PIN);
  });

  it('refuses a command whose settings point at PostgreSQL when the folder uses the file store, naming the setting (exit 3)', async () => {
    await openAuditStore({ dataDir: folder.dir });
    const error = await openAuditStore({ dataDir: folder.dir, auditDatabaseUrl: PG_URL }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditStorePinError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/AUDIT_DATABASE_URL: points at PostgreSQL db\.example:5433\/audit .* but this data folder's audit store is the file store/);
    expect((error as Error).message).toContain('pds-trace audit pin --accept');
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('refuses a command with AUDIT_DATABASE_URL unset when the folder uses PostgreSQL, before opening the file store', async () => {
    await writePin(folder.dir, PG_PIN);
    await expect(openAuditStore({ dataDir: folder.dir })).rejects.toThrow(/AUDIT_DATABASE_URL: unset \(the file store\), but this data folder's audit store is PostgreSQL db\.example:5433\/audit/);
    await expect(readFile(path.join(folder.dir, 'audit', 'events.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it('is not overridden by an empty AUDIT_DATABASE_URL: the config file’s database still applies', async () => {
    const file = path.join(folder.dir, 'settings.json');
    await writeFile(file, JSON.stringify({ AUDIT_DATABASE_URL: PG_URL }));
    const config = loadConfig({ PDS_TRACE_CONFIG: file, PDS_TRACE_DATA_DIR: folder.dir, AUDIT_DATABASE_URL: '' });
    expect(pinOf(config)).toEqual(PG_PIN);
  });

  it('refuses a damaged pin rather than re-pinning anywhere', async () => {
    await writeFile(path.join(folder.dir, PIN_FILE), '{"store":"elsewhere"}');
    await expect(openAuditStore({ dataDir: folder.dir })).rejects.toThrow(ConfigError);
  });
});

describe('pds-trace audit pin', () => {
  let env: Record<string, string>;

  beforeEach(async () => {
    env = { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_PASSWORD: GOOD_PASSWORD };
    const users = await UserStore.open(folder.dir);
    const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
    await users.add({ id: 'ada', roles: ['admin'], kind: 'person', passwordHash });
    await users.add({ id: 'aud', roles: ['auditor'], kind: 'person', passwordHash });
  });

  it('refuses every command while the settings disagree with the pin, as a configuration error', async () => {
    await writePin(folder.dir, PG_PIN);
    const run = await runCli(['audit', 'search', '--as', 'aud'], env);
    expect(run.error).toBeInstanceOf(ConfigError);
    expect(EXIT.config).toBe(3);
  });

  it('moves the pin on an admin’s --accept, and records the move in the newly pinned store', async () => {
    await writePin(folder.dir, PG_PIN);
    expect((await runCli(['audit', 'pin', '--as', 'ada'], env)).error).toMatchObject({ exitCode: EXIT.usage });
    const run = await runCli(['audit', 'pin', '--accept', '--as', 'ada'], env);
    expect(run.error).toBeUndefined();
    expect(run.stdout).toContain('is now the file store under <dataDir>/audit (was PostgreSQL db.example:5433/audit (schema pds_trace_audit))');
    expect(await readPin(folder.dir)).toEqual({ store: 'file' });
    const store = await openAuditStore({ dataDir: folder.dir });
    expect((await store.search()).map((e) => [e.kind, e.user, e.outcome])).toEqual([
      ['sign_in', 'ada', 'success'],
      ['config_changed', 'ada', 'pinned'],
    ]);
    expect((await runCli(['audit', 'verify', '--as', 'aud'], env)).error).toBeUndefined();
  });
});
