import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import { auditDir } from '../../src/audit/store.js';
import { UserStore } from '../../src/auth/users.js';
import { LOCKOUT_THRESHOLD } from '../../src/auth/authenticate.js';
import { CliError, EXIT } from '../../src/cli/errors.js';
import { MISUSE_WARNING } from '../../src/cli/sign-in-session.js';
import { tempFolder } from '../audit/fixtures.js';
import { runCli } from '../auth/cli-harness.js';
import { GOOD_PASSWORD } from '../auth/fixtures.js';

let folder: { dir: string; remove: () => Promise<void> };
let env: Record<string, string>;

async function auditTrail() {
  const store = await openFileAuditStore(auditDir(folder.dir));
  return store.search();
}

async function users() {
  return UserStore.open(folder.dir);
}

beforeEach(async () => {
  folder = await tempFolder('pds-trace-users-cmd-');
  env = { PDS_TRACE_DATA_DIR: folder.dir };
});

afterEach(async () => {
  await folder.remove();
});

describe('pds-trace users: first use', () => {
  it('adds the first admin without sign-in, asking twice for the password, and audits it', async () => {
    const run = await runCli(['users', 'add', 'ada', '--role', 'admin', '--name', 'Ada Admin'], env, [GOOD_PASSWORD, GOOD_PASSWORD]);
    expect(run.error).toBeUndefined();
    expect(run.stdout).toContain('Added ada (admin), the first user');
    expect(await (await users()).get('ada')).toMatchObject({ roles: ['admin'], kind: 'person', displayName: 'Ada Admin' });
    const [digest, event] = await auditTrail();
    // The store's first digest, then the change itself.
    expect(digest).toMatchObject({ seq: 1, kind: 'user_store_changed', user: 'ada', role: 'admin', outcome: 'recorded', detail: expect.stringMatching(/^sha256=[0-9a-f]{64} change=added target=ada$/) });
    expect(event).toMatchObject({ seq: 2, kind: 'user_changed', user: 'ada', role: 'admin', outcome: 'added', detail: expect.stringContaining('bootstrap=first-user') });
  });

  it('warns before adding the first admin (nobody to sign in as yet), on standard error', async () => {
    const run = await runCli(['users', 'add', 'ada', '--role', 'admin'], { ...env, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe(`${MISUSE_WARNING}\n`);
    expect(run.stdout).not.toContain(MISUSE_WARNING);
  });

  it('prints the roles on an empty store, needing no user, and creates nobody', async () => {
    const run = await runCli(['users', 'roles'], env);
    expect(run.error).toBeUndefined();
    expect(run.stdout).toMatch(/cli\s+audit search\s+audit\.read\s+\[auditor\]/);
    expect(run.stderr).toBe(`${MISUSE_WARNING}\n`);
    expect(await (await users()).isEmpty()).toBe(true);
  });

  it('refuses a first user who is not an admin, and adds nobody', async () => {
    const run = await runCli(['users', 'add', 'tess', '--role', 'tracer'], { ...env, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD });
    expect(run.error).toBeInstanceOf(CliError);
    expect((run.error as CliError).message).toContain('the first user must be a person with the admin role');
    expect(await (await users()).isEmpty()).toBe(true);
  });

  it('refuses two different passwords and a short one', async () => {
    const differ = await runCli(['users', 'add', 'ada', '--role', 'admin'], env, [GOOD_PASSWORD, `${GOOD_PASSWORD}!`]);
    expect((differ.error as CliError).message).toContain('the two passwords differ');
    const short = await runCli(['users', 'add', 'ada', '--role', 'admin'], env, ['short', 'short']);
    expect(short.error).toMatchObject({ exitCode: EXIT.usage, message: expect.stringContaining('at least 12 characters') });
    expect(await (await users()).isEmpty()).toBe(true);
  });
});

describe('pds-trace users: managing', () => {
  beforeEach(async () => {
    const first = await runCli(['users', 'add', 'ada', '--role', 'admin'], { ...env, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD });
    expect(first.error).toBeUndefined();
    env = { ...env, PDS_TRACE_PASSWORD: GOOD_PASSWORD, PDS_TRACE_NEW_PASSWORD: 'tess first password' };
  });

  it('adds a person as a signed-in admin, recording sign-in and change by the admin', async () => {
    const run = await runCli(['users', 'add', 'tess', '--role', 'tracer', '--as', 'ada'], env);
    expect(run.error).toBeUndefined();
    const trail = await auditTrail();
    expect(trail.slice(2).map((e) => [e.kind, e.user, e.outcome])).toEqual([
      ['sign_in', 'ada', 'success'],
      ['user_store_changed', 'ada', 'recorded'],
      ['user_changed', 'ada', 'added'],
    ]);
    expect(trail[4]!.detail).toBe('action=add target=tess kind=person roles=tracer');
    expect(JSON.stringify(trail)).not.toContain('tess first password');
  });

  it('gives a service account a token, shown once, that signs it in and no password does', async () => {
    const run = await runCli(['users', 'add', 'watcher', '--role', 'tracer', '--service', '--as', 'ada'], env);
    const token = /^(pdst_\S+)$/m.exec(run.stdout)?.[1];
    expect(token).toBeDefined();
    expect(JSON.stringify(await (await users()).get('watcher'))).not.toContain(token!);

    const asService = await runCli(['users', 'roles'], { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_SERVICE_ACCOUNT: 'watcher', PDS_TRACE_SERVICE_TOKEN: token! });
    expect(asService.error).toBeUndefined();
    expect(asService.stdout).toContain('Permissions by role');

    const byPassword = await runCli(['users', 'roles', '--as', 'watcher'], { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_PASSWORD: token! });
    expect((byPassword.error as CliError).message).toContain('sign-in refused for watcher');
  });

  it('replaces a service account’s token on passwd, so the old one stops working', async () => {
    const added = await runCli(['users', 'add', 'watcher', '--role', 'operator', '--service', '--as', 'ada'], env);
    const oldToken = /^(pdst_\S+)$/m.exec(added.stdout)![1]!;
    const rotated = await runCli(['users', 'passwd', 'watcher', '--as', 'ada'], env);
    const newToken = /^(pdst_\S+)$/m.exec(rotated.stdout)![1]!;
    expect(newToken).not.toBe(oldToken);
    const old = await runCli(['users', 'roles'], { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_SERVICE_ACCOUNT: 'watcher', PDS_TRACE_SERVICE_TOKEN: oldToken });
    expect((old.error as CliError).message).toContain('sign-in refused');
  });

  it('lets anyone change their own password, but only an admin someone else’s', async () => {
    await runCli(['users', 'add', 'tess', '--role', 'tracer', '--as', 'ada'], { ...env, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD });
    await runCli(['users', 'add', 'olly', '--role', 'operator', '--as', 'ada'], { ...env, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD });
    const own = await runCli(['users', 'passwd', 'tess', '--as', 'tess'], { ...env, PDS_TRACE_NEW_PASSWORD: 'tess changed it herself' });
    expect(own.error).toBeUndefined();
    const other = await runCli(['users', 'passwd', 'olly', '--as', 'tess'], { ...env, PDS_TRACE_PASSWORD: 'tess changed it herself' });
    expect((other.error as CliError).message).toBe('tess may not use users passwd: needs users.manage');
    const denied = (await auditTrail()).at(-1);
    expect(denied).toMatchObject({ kind: 'access_denied', user: 'tess', role: 'tracer', outcome: 'refused', detail: 'command=users passwd' });
  });

  it('disables and re-enables a user, whose sign-in is refused meanwhile', async () => {
    await runCli(['users', 'add', 'tess', '--role', 'tracer', '--as', 'ada'], { ...env, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD });
    expect((await runCli(['users', 'disable', 'tess', '--as', 'ada'], env)).error).toBeUndefined();
    expect((await runCli(['users', 'roles', '--as', 'tess'], env)).error).toBeInstanceOf(CliError);
    expect((await runCli(['users', 'enable', 'tess', '--as', 'ada'], env)).error).toBeUndefined();
    expect((await runCli(['users', 'roles', '--as', 'tess'], env)).error).toBeUndefined();
    const changes = (await auditTrail()).filter((e) => e.kind === 'user_changed').map((e) => e.outcome);
    expect(changes).toEqual(['added', 'added', 'disabled', 'enabled']);
  });

  it('lifts a lockout on enable, audited, so the locked user can sign in again', async () => {
    await runCli(['users', 'add', 'tess', '--role', 'tracer', '--as', 'ada'], { ...env, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD });
    for (let i = 1; i <= LOCKOUT_THRESHOLD; i++) {
      expect((await runCli(['users', 'roles', '--as', 'tess'], { ...env, PDS_TRACE_PASSWORD: `wrong guess ${i}` })).error).toBeInstanceOf(CliError);
    }
    const locked = await runCli(['users', 'roles', '--as', 'tess'], env);
    expect((locked.error as CliError).message).toMatch(/account tess is locked after 5 failed attempts until /);
    const list = await runCli(['users', 'list', '--as', 'ada'], env);
    expect(list.stdout).toMatch(/^tess\s+person\s+tracer\s+locked until /m);

    const enable = await runCli(['users', 'enable', 'tess', '--as', 'ada'], env);
    expect(enable.error).toBeUndefined();
    expect(enable.stdout).toBe('tess enabled; the lockout after failed sign-ins is lifted.\n');
    expect((await runCli(['users', 'roles', '--as', 'tess'], env)).error).toBeUndefined();
    const record = await (await users()).get('tess');
    expect(record).toMatchObject({ failedAttempts: 0, disabled: false });
    expect(record?.lockoutUntil).toBeUndefined();

    const trail = await auditTrail();
    const lifted = trail.filter((e) => e.kind === 'lockout_lifted');
    expect(lifted).toEqual([expect.objectContaining({ user: 'ada', role: 'admin', outcome: 'lifted', detail: 'action=enable target=tess' })]);
    expect(trail.filter((e) => e.kind === 'lockout').map((e) => e.user)).toEqual(['tess']);
    // An account that was not locked is enabled without a lockout event.
    expect((await runCli(['users', 'enable', 'tess', '--as', 'ada'], env)).stdout).toBe('tess enabled.\n');
    expect((await auditTrail()).filter((e) => e.kind === 'lockout_lifted')).toHaveLength(1);
  });

  it('warns and names who signed in on standard error before every signed-in command, keeping standard output for data', async () => {
    const list = await runCli(['users', 'list', '--as', 'ada'], env);
    expect(list.stderr.split('\n').slice(0, 2)).toEqual([MISUSE_WARNING, 'Signed in as ada (admin) for 999000000001.']);
    expect(list.stdout).not.toContain(MISUSE_WARNING);
    expect(list.stdout).not.toContain('Signed in as');
    // Refused by the matrix: who was refused is on screen too.
    await runCli(['users', 'add', 'tess', '--role', 'tracer', '--as', 'ada'], { ...env, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD });
    const refused = await runCli(['users', 'list', '--as', 'tess'], env);
    expect(refused.error).toMatchObject({ exitCode: EXIT.denied });
    expect(refused.stderr).toContain('Signed in as tess (tracer)');
    // A refused sign-in names nobody.
    const wrong = await runCli(['users', 'list', '--as', 'ada'], { ...env, PDS_TRACE_PASSWORD: 'not the password' });
    expect(wrong.stderr).toBe(`${MISUSE_WARNING}\n`);
  });

  it('changes roles with a role_changed event naming old and new, and lists users with their state', async () => {
    await runCli(['users', 'add', 'tess', '--role', 'tracer', '--as', 'ada'], env);
    const set = await runCli(['users', 'set-roles', 'tess', '--role', 'analyst', '--as', 'ada'], env);
    expect(set.error).toBeUndefined();
    expect((await auditTrail()).at(-1)).toMatchObject({ kind: 'role_changed', user: 'ada', detail: 'target=tess roles=analyst previous=tracer' });
    const refusedMix = await runCli(['users', 'set-roles', 'tess', '--role', 'analyst', '--role', 'auditor', '--as', 'ada'], env);
    expect((refusedMix.error as CliError).message).toContain('cannot be combined');

    const list = await runCli(['users', 'list', '--as', 'ada'], env);
    expect(list.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ['ada', 'person', 'admin', 'enabled'],
      ['tess', 'person', 'analyst', 'enabled'],
    ]);
    expect(list.stdout).not.toContain('scrypt');
  });

  it('refuses an unknown role name as a usage error before signing in', async () => {
    const run = await runCli(['users', 'add', 'x', '--role', 'superuser', '--as', 'ada'], env);
    expect(run.error).toMatchObject({ code: 'commander.invalidArgument' });
    expect((await auditTrail()).filter((e) => e.kind === 'sign_in')).toHaveLength(0);
  });

  it('prints the permission matrix from the tables', async () => {
    const run = await runCli(['users', 'roles', '--as', 'ada'], env);
    expect(run.stdout).toMatch(/audit\.read\s+\.\s+\.\s+\.\s+x\s+\./);
    expect(run.stdout).toMatch(/cli\s+audit search\s+audit\.read\s+\[auditor\]/);
    expect(run.stdout).toMatch(/page \/admin\/dashboard\s+dashboard\.view\s+\[admin, operator\]/);
  });
});
