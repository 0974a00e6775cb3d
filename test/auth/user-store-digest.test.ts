import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import { auditDir } from '../../src/audit/store.js';
import { hashPassword } from '../../src/auth/password.js';
import { RECORDED_USERS_FILE, UserStore, USERS_FILE } from '../../src/auth/users.js';
import { CliError, EXIT } from '../../src/cli/errors.js';
import { tempFolder } from '../audit/fixtures.js';
import { runCli } from './cli-harness.js';
import { FAST_SCRYPT, GOOD_PASSWORD } from './fixtures.js';
import { MISUSE_WARNING } from '../../src/cli/sign-in-session.js';

let folder: { dir: string; remove: () => Promise<void> };
let env: Record<string, string>;

async function auditTrail() {
  return (await openFileAuditStore(auditDir(folder.dir))).search();
}

/** Edits users.json behind pds-trace's back, as anyone with access to the data folder could. */
async function editUsers(edit: (users: Array<Record<string, unknown>>) => void): Promise<void> {
  const file = path.join(folder.dir, USERS_FILE);
  const document = JSON.parse(await readFile(file, 'utf8')) as { users: Array<Record<string, unknown>> };
  edit(document.users);
  await writeFile(file, JSON.stringify(document, null, 2));
}

const account = (users: Array<Record<string, unknown>>, id: string) => users.find((u) => u.id === id)!;

async function signIn(id: string, password = GOOD_PASSWORD) {
  return runCli(['users', 'roles', '--as', id], { ...env, PDS_TRACE_PASSWORD: password });
}

function refusedWith(run: { error: unknown }, text: string | RegExp): void {
  expect(run.error).toBeInstanceOf(CliError);
  expect((run.error as CliError).exitCode).toBe(EXIT.denied);
  expect((run.error as CliError).message).toMatch(text);
}

beforeEach(async () => {
  folder = await tempFolder('pds-trace-store-digest-');
  env = { PDS_TRACE_DATA_DIR: folder.dir, PDS_TRACE_PASSWORD: GOOD_PASSWORD, PDS_TRACE_NEW_PASSWORD: GOOD_PASSWORD };
  expect((await runCli(['users', 'add', 'ada', '--role', 'admin'], env)).error).toBeUndefined();
  expect((await runCli(['users', 'add', 'tess', '--role', 'tracer', '--as', 'ada'], env)).error).toBeUndefined();
  expect((await runCli(['users', 'add', 'aud', '--role', 'auditor', '--as', 'ada'], env)).error).toBeUndefined();
});

afterEach(async () => {
  await folder.remove();
});

describe('the user store digest in the audit trail', () => {
  it('records a digest with every change, by whoever made it, and none for a sign-in that changes nothing', async () => {
    const digests = (await auditTrail()).filter((e) => e.kind === 'user_store_changed');
    expect(digests.map((e) => [e.user, e.detail!.replace(/sha256=[0-9a-f]{64}/, 'sha256=…')])).toEqual([
      ['ada', 'sha256=… change=added target=ada'],
      ['ada', 'sha256=… change=added target=tess'],
      ['ada', 'sha256=… change=added target=aud'],
    ]);
    expect((await signIn('tess')).error).toBeUndefined();
    expect((await auditTrail()).filter((e) => e.kind === 'user_store_changed')).toHaveLength(3);
    // A failed sign-in changes the store: its new state is recorded, as the account's own doing.
    await signIn('tess', 'not the password');
    expect((await auditTrail()).filter((e) => e.kind === 'user_store_changed').at(-1)).toMatchObject({ user: 'tess', detail: expect.stringContaining('change=sign_in target=tess') });
    expect((await signIn('tess')).error).toBeUndefined();
  });
});

describe('a users.json edited by hand', () => {
  it('is refused on load when the edit breaks a role rule, naming the account and the rule', async () => {
    await editUsers((users) => void (account(users, 'aud').roles = ['auditor', 'admin']));
    refusedWith(await signIn('ada'), /users\.json refused: user aud: auditor cannot be combined with another role.*nobody can sign in/);
    refusedWith(await runCli(['users', 'accept-store', '--as', 'ada'], env), /user aud: auditor cannot be combined/);
  });

  it('that clears a lockout refuses everyone sign-in, audited, until an admin accepts it', async () => {
    for (let i = 0; i < 5; i++) await signIn('tess', `wrong ${i}`);
    refusedWith(await signIn('tess'), /locked/);
    await editUsers((users) => {
      account(users, 'tess').failedAttempts = 0;
      delete account(users, 'tess').lockoutUntil;
    });
    refusedWith(await signIn('tess'), /sign-in refused for everyone: .*users\.json differs from the state last recorded in the audit trail.*users accept-store/);
    refusedWith(await signIn('ada'), /sign-in refused for everyone/);
    expect((await auditTrail()).at(-1)).toMatchObject({ kind: 'sign_in_failed', user: 'ada', outcome: 'store_not_accepted' });
    // Nor can a change be made on top of it (that would record, and so launder, the edit).
    const users = await UserStore.open(folder.dir);
    expect((await users.get('tess'))!.lockoutUntil).toBeUndefined();

    const accepted = await runCli(['users', 'accept-store', '--as', 'ada'], env);
    expect(accepted.error).toBeUndefined();
    expect(accepted.stdout).toMatch(/tess: failedAttempts 5 -> 0; lockoutUntil \S+ -> \(none\)/);
    expect(accepted.stdout).toMatch(/Accepted users\.json \(sha256 [0-9a-f]{64}\); sign-in is open again/);
    expect((await auditTrail()).slice(-2)).toMatchObject([
      { kind: 'sign_in', user: 'ada', outcome: 'success' },
      { kind: 'user_store_changed', user: 'ada', role: 'admin', detail: expect.stringMatching(/change=accepted previous=[0-9a-f]{64} basis=recorded$/) },
    ]);
    expect((await signIn('tess')).error).toBeUndefined();
  });

  it('that adds a role within the rules is refused until accepted, and the accept shows the role change', async () => {
    await editUsers((users) => void (account(users, 'tess').roles = ['tracer', 'analyst']));
    refusedWith(await signIn('tess'), /differs from the state last recorded/);
    const accepted = await runCli(['users', 'accept-store', '--as', 'ada'], env);
    expect(accepted.stdout).toContain('tess: roles tracer -> tracer+analyst');
    // Signed in against the recorded accounts, not through the session: warned and named all the same.
    expect(accepted.stderr.split('\n').slice(0, 2)).toEqual([MISUSE_WARNING, 'Signed in as ada (admin) for 999000000001.']);
    expect((await signIn('tess')).error).toBeUndefined();
  });

  it('cannot be accepted by someone the edit made admin: the accepter signs in against the recorded accounts', async () => {
    await editUsers((users) => void (account(users, 'tess').roles = ['tracer', 'admin']));
    refusedWith(await runCli(['users', 'accept-store', '--as', 'tess'], env), 'tess may not use users accept-store: needs users.manage');
    expect((await auditTrail()).at(-1)).toMatchObject({ kind: 'access_denied', user: 'tess', role: 'tracer', detail: 'command=users accept-store' });
    // Nor with a password hash the edit put in: ada's recorded password still decides.
    const otherHash = await hashPassword('an editor chose this one', FAST_SCRYPT);
    await editUsers((users) => void (account(users, 'ada').passwordHash = otherHash));
    refusedWith(await runCli(['users', 'accept-store', '--as', 'ada'], { ...env, PDS_TRACE_PASSWORD: 'an editor chose this one' }), /sign-in refused for ada/);
    refusedWith(await signIn('tess'), /differs/);
  });

  it('that deletes users.json does not reopen the sign-in-less first add', async () => {
    await rm(path.join(folder.dir, USERS_FILE));
    refusedWith(await runCli(['users', 'add', 'mallory', '--role', 'admin'], env), /differs from the state last recorded/);
    expect(await (await UserStore.open(folder.dir)).isEmpty()).toBe(true);
  });

  it('cannot be accepted when the recorded copy is gone: there is nobody the trail vouches for', async () => {
    await editUsers((users) => void (account(users, 'tess').disabled = true));
    await rm(path.join(folder.dir, RECORDED_USERS_FILE));
    refusedWith(await runCli(['users', 'accept-store', '--as', 'ada'], env), /users\.recorded\.json is missing.*restore users\.json/);
  });
});

describe('pds-trace users accept-store', () => {
  it('says there is nothing to accept when users.json is as recorded, and records nothing', async () => {
    const before = (await auditTrail()).length;
    const run = await runCli(['users', 'accept-store', '--as', 'ada'], env);
    expect(run.error).toBeUndefined();
    expect(run.stdout).toContain('nothing to accept');
    expect((await auditTrail()).slice(before).map((e) => e.kind)).toEqual(['sign_in']);
  });

  it('is no way round the lockout: while users.json is as recorded it signs in as usual, counting failures', async () => {
    refusedWith(await runCli(['users', 'accept-store', '--as', 'ada'], { ...env, PDS_TRACE_PASSWORD: 'a guess' }), /sign-in refused for ada/);
    expect((await (await UserStore.open(folder.dir)).get('ada'))!.failedAttempts).toBe(1);
  });

  it('accepts, on first use, a store that was never recorded (an installation from before digests)', async () => {
    const other = await tempFolder('pds-trace-store-digest-first-');
    try {
      const plain = await UserStore.open(other.dir);
      await plain.add({ id: 'ada', roles: ['admin'], kind: 'person', passwordHash: await hashPassword(GOOD_PASSWORD, FAST_SCRYPT) });
      const otherEnv = { ...env, PDS_TRACE_DATA_DIR: other.dir };
      refusedWith(await runCli(['users', 'roles', '--as', 'ada'], otherEnv), /has no digest recorded in the audit trail/);
      const accepted = await runCli(['users', 'accept-store', '--as', 'ada'], otherEnv);
      expect(accepted.stdout).toContain('No state of users.json was recorded in the audit trail before');
      expect((await runCli(['users', 'roles', '--as', 'ada'], otherEnv)).error).toBeUndefined();
      const trail = await (await openFileAuditStore(auditDir(other.dir))).search({ kind: 'user_store_changed' });
      expect(trail.map((e) => e.detail)).toEqual([expect.stringMatching(/change=accepted previous=none basis=first_use$/)]);
    } finally {
      await other.remove();
    }
  });
});
