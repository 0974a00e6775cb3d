import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENTS_FILE, openFileAuditStore } from '../../src/audit/file-store.js';
import { openPgAuditStore } from '../../src/audit/pg-store.js';
import { auditDir } from '../../src/audit/store.js';
import { hashPassword } from '../../src/auth/password.js';
import { CliError, EXIT } from '../../src/cli/errors.js';
import { MISUSE_WARNING } from '../../src/cli/sign-in-session.js';
import { runCli } from '../auth/cli-harness.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from '../auth/fixtures.js';
import { recordedUsers } from '../support/accounts.js';
import { sampleEvents, tempFolder, TEST_NHS_NUMBERS } from '../audit/fixtures.js';
import { TEST_DATABASE_URL } from '../audit/pg-fixtures.js';

let folder: { dir: string; remove: () => Promise<void> };
let env: Record<string, string>;

beforeEach(async () => {
  folder = await tempFolder('pds-trace-audit-cmd-');
  env = { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_PASSWORD: GOOD_PASSWORD };
  const store = await openFileAuditStore(auditDir(folder.dir));
  await store.append(sampleEvents(6));
  // After the samples (seq 1-6): each add records the user store's digest (seq 7-9).
  const users = await recordedUsers(folder.dir);
  const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
  await users.add({ id: 'ada', roles: ['admin'], kind: 'person', passwordHash });
  await users.add({ id: 'aud', roles: ['auditor'], kind: 'person', passwordHash });
  await users.add({ id: 'tess', roles: ['tracer'], kind: 'person', passwordHash });
});

afterEach(async () => {
  await folder.remove();
});

async function trail() {
  return (await openFileAuditStore(auditDir(folder.dir))).search();
}

describe('pds-trace audit verify', () => {
  it('checks the trail as found before recording anything, then records the sign-in and the check', async () => {
    const run = await runCli(['audit', 'verify', '--as', 'aud'], env);
    expect(run.error).toBeUndefined();
    // Six samples and three user-store digests: the auditor's sign-in is recorded after the check.
    expect(run.stdout).toMatch(/^audit trail intact: 9 events; head 9:[0-9a-f]{64}\n$/);
    expect((await trail()).slice(9).map((e) => e.kind)).toEqual(['sign_in', 'audit_verified']);
    expect((await trail()).at(-1)).toMatchObject({ kind: 'audit_verified', user: 'aud', role: 'auditor', outcome: 'intact', detail: 'events=9 head=9' });
  });

  it('reports a cut trail rather than failing at sign-in, and appends nothing to it', async () => {
    // Later events, cut off below: the user-store digests (seq 7-9) stay, so the auditor can sign in.
    await (await openFileAuditStore(auditDir(folder.dir))).append(sampleEvents(2));
    const file = path.join(auditDir(folder.dir), EVENTS_FILE);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    const cut = lines.slice(0, 10).map((l) => `${l}\n`).join('');
    await writeFile(file, cut);
    const run = await runCli(['audit', 'verify', '--as', 'aud'], env);
    expect(run.stdout).toContain('audit trail NOT intact: truncated at event 11: the chain ends at event 10 but an anchor records event 11');
    expect(run.stderr).toContain('this verification could not be recorded');
    expect(run.error).toMatchObject({ exitCode: EXIT.failure, message: 'the audit trail has been tampered with' });
    expect(await readFile(file, 'utf8')).toBe(cut);
  });

  it('fails with the kind and seq of a tampered event', async () => {
    const file = path.join(auditDir(folder.dir), EVENTS_FILE);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[2] = lines[2]!.replace('"outcome":"matched"', '"outcome":"no_match"');
    await writeFile(file, lines.join('\n'));
    const run = await runCli(['audit', 'verify', '--as', 'aud'], env);
    expect(run.error).toMatchObject({ exitCode: EXIT.failure, message: 'the audit trail has been tampered with' });
    expect(run.stdout).toContain('audit trail NOT intact: edited at event 3');
    expect((await trail()).at(-1)).toMatchObject({ kind: 'audit_verified', outcome: 'edited', detail: 'seq=3 events=9' });
  });

  it('checks heads noted elsewhere', async () => {
    const [, , third] = await trail();
    expect((await runCli(['audit', 'verify', '--expect-head', `3:${third!.hash}`, '--as', 'aud'], env)).error).toBeUndefined();
    const wrong = await runCli(['audit', 'verify', '--expect-head', `3:${'0'.repeat(64)}`, '--as', 'aud'], env);
    expect(wrong.stdout).toContain('anchor_mismatch at event 3');
  });

  it('is refused to anyone but an auditor, and the refusal is recorded', async () => {
    const run = await runCli(['audit', 'verify', '--as', 'ada'], env);
    expect((run.error as CliError).message).toBe('ada may not use audit verify: needs audit.verify');
    expect((await trail()).at(-1)).toMatchObject({ kind: 'access_denied', user: 'ada', detail: 'command=audit verify' });
  });
});

describe('pds-trace audit search', () => {
  it('lists events for one patient and records who searched for which patient', async () => {
    const run = await runCli(['audit', 'search', '--nhs-number', '999 000 0018', '--as', 'aud'], env);
    expect(run.error).toBeUndefined();
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toBe('seq\ttime\tkind\tuser\trole\tbatchId\trow\tinteraction\tmessageId\tnhsNumber\toutcome\tdetail\tmatchedUnder');
    expect(rows.slice(1).map((r) => r.split('\t')[0])).toEqual(['3', '6']);
    expect(rows.slice(1).every((r) => r.split('\t')[9] === TEST_NHS_NUMBERS[0])).toBe(true);
    expect((await trail()).at(-1)).toMatchObject({ kind: 'audit_searched', user: 'aud', nhsNumber: TEST_NHS_NUMBERS[0], outcome: 'listed', detail: 'filters=nhsNumber events=2' });
  });

  it('filters by user, message id and time range together', async () => {
    const run = await runCli(['audit', 'search', '--user', 'alice', '--from', '2025-01-01T09:00:02Z', '--to', '2025-01-01T09:00:05Z', '--as', 'aud'], env);
    expect(run.stdout.trim().split('\n').slice(1).map((r) => r.split('\t')[0])).toEqual(['2', '4']);
    const byMessage = await runCli(['audit', 'search', '--message-id', 'MSG-0005', '--as', 'aud'], env);
    expect(byMessage.stdout.trim().split('\n').slice(1).map((r) => r.split('\t')[0])).toEqual(['5']);
  });

  it('exports to CSV with --csv', async () => {
    const file = path.join(folder.dir, 'export.csv');
    const run = await runCli(['audit', 'search', '--kind', 'smsp_exchange', '--csv', file, '--as', 'aud'], env);
    expect(run.stdout).toBe(`6 events written to ${file}\n`);
    const text = await readFile(file, 'utf8');
    expect(text.split('\r\n').filter(Boolean)).toHaveLength(7);
    expect((await trail()).at(-1)).toMatchObject({ kind: 'audit_searched', outcome: 'exported', detail: 'filters=kind events=6' });
  });

  it('refuses malformed filters before signing in', async () => {
    const run = await runCli(['audit', 'search', '--nhs-number', '12345', '--as', 'aud'], env);
    expect(run.error).toMatchObject({ code: 'commander.invalidArgument' });
    expect(String((run.error as Error).message)).toContain('ten digits');
  });

  it('shows nothing of the trail to a tracer', async () => {
    const run = await runCli(['audit', 'search', '--as', 'tess'], env);
    expect(run.error).toBeInstanceOf(CliError);
    expect(run.stdout).toBe('');
  });
});

describe('pds-trace audit: the warning and who is signed in', () => {
  const banner = (role: string, user: string) => [MISUSE_WARNING, `Signed in as ${user} (${role}) for 999000000001.`];

  it('shows both on standard error for verify, which signs in without the user-store check, and keeps them off standard output', async () => {
    const run = await runCli(['audit', 'verify', '--as', 'aud'], env);
    expect(run.error).toBeUndefined();
    expect(run.stderr.split('\n').slice(0, 2)).toEqual(banner('auditor', 'aud'));
    expect(run.stdout).toMatch(/^audit trail intact: \d+ events; head \d+:[0-9a-f]{64}\n$/);
  });

  it('shows both for pin --accept, which also signs in without the user-store check', async () => {
    const run = await runCli(['audit', 'pin', '--accept', '--as', 'ada'], env);
    expect(run.error).toBeUndefined();
    expect(run.stderr.split('\n').slice(0, 2)).toEqual(banner('admin', 'ada'));
    expect(run.stdout).not.toContain('Signed in');
  });

  it('leaves standard output of a search to the table alone', async () => {
    const run = await runCli(['audit', 'search', '--kind', 'smsp_exchange', '--as', 'aud'], env);
    expect(run.stderr.split('\n').slice(0, 2)).toEqual(banner('auditor', 'aud'));
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]!.startsWith('seq\ttime\tkind')).toBe(true);
    expect(lines.slice(1).every((line) => /^\d+\t/.test(line))).toBe(true);
    expect(lines).toHaveLength(7);
  });
});

describe('pds-trace audit migrate', () => {
  let database: string;
  let admin: pg.Client;
  const appRole = `pds_trace_app_${randomBytes(5).toString('hex')}`;

  beforeEach(async () => {
    database = `pds_trace_cmd_${randomBytes(5).toString('hex')}`;
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });

  afterEach(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${appRole}`);
    await admin.end();
  });

  it('creates the schema and insert-only role, then records the admin’s sign-in and the change in it', async () => {
    const ownerUrl = new URL(TEST_DATABASE_URL);
    ownerUrl.pathname = `/${database}`;
    const appUrl = new URL(ownerUrl);
    appUrl.username = appRole;
    const run = await runCli(['audit', 'migrate', '--owner-url', ownerUrl.toString(), '--app-role', appRole, '--as', 'ada'], {
      ...env,
      AUDIT_DATABASE_URL: appUrl.toString(),
    });
    expect(run.error).toBeUndefined();
    expect(run.stdout).toContain(`role ${appRole} may only insert and read`);
    expect(run.stdout).toContain(`Connect pds-trace as ${appRole} (AUDIT_DATABASE_URL=${appUrl.toString()}); the owner must not be the runtime role`);
    const store = await openPgAuditStore({ connectionString: appUrl.toString() });
    try {
      const events = await store.search();
      expect(events.map((e) => [e.seq, e.kind, e.user])).toEqual([
        [1, 'sign_in', 'ada'],
        [2, 'config_changed', 'ada'],
      ]);
      expect(await store.verify()).toMatchObject({ ok: true, count: 2 });
    } finally {
      await store.close();
    }
  });
});
