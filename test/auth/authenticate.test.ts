import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  CredentialsError,
  LOCKOUT_MS,
  LOCKOUT_THRESHOLD,
  signInCli,
  signInWithPassword,
  signInWithServiceToken,
  type AuthenticatorDeps,
} from '../../src/auth/authenticate.js';
import { hashPassword } from '../../src/auth/password.js';
import { issueServiceToken } from '../../src/auth/service-token.js';
import { UserStore } from '../../src/auth/users.js';
import { tempFolder } from '../audit/fixtures.js';
import { FAST_SCRYPT, GOOD_PASSWORD, ManualClock, RecordingAudit } from './fixtures.js';

let folder: { dir: string; remove: () => Promise<void> };
let users: UserStore;
let audit: RecordingAudit;
let clock: ManualClock;
let deps: AuthenticatorDeps;
let serviceToken: string;

beforeEach(async () => {
  folder = await tempFolder('pds-trace-signin-');
  clock = new ManualClock();
  users = await UserStore.open(folder.dir, { clock: clock.now });
  audit = new RecordingAudit();
  deps = { users, audit, clock: clock.now, origin: '999000000001', passwordParams: FAST_SCRYPT };
  const passwordHash = await hashPassword(GOOD_PASSWORD, FAST_SCRYPT);
  await users.add({ id: 'ada', roles: ['admin'], kind: 'person', passwordHash });
  await users.add({ id: 'tess', roles: ['tracer'], kind: 'person', passwordHash });
  const issued = issueServiceToken();
  serviceToken = issued.token;
  await users.add({ id: 'watcher', roles: ['tracer'], kind: 'service', tokenHash: issued.hash });
});

afterEach(async () => {
  await folder.remove();
});

async function refusal(promise: Promise<unknown>): Promise<AuthenticationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthenticationError);
  return err as AuthenticationError;
}

describe('signing in with a password', () => {
  it('returns the principal and records a sign_in event with user, role and time', async () => {
    const principal = await signInWithPassword(deps, 'tess', GOOD_PASSWORD);
    expect(principal).toEqual({ userId: 'tess', roles: ['tracer'], kind: 'person' });
    expect(audit.events).toEqual([
      { kind: 'sign_in', user: 'tess', role: 'tracer', outcome: 'success', detail: 'method=password', time: '2025-01-01T09:00:00.000Z', origin: '999000000001' },
    ]);
  });

  it('refuses a wrong password and an unknown user alike, recording why for the audit trail only', async () => {
    const wrong = await refusal(signInWithPassword(deps, 'tess', 'not the password'));
    const unknown = await refusal(signInWithPassword(deps, 'nobody', GOOD_PASSWORD));
    expect(wrong.reason).toBe('bad_password');
    expect(unknown.reason).toBe('unknown_user');
    expect(wrong.message.replace('tess', 'X')).toBe(unknown.message.replace('nobody', 'X'));
    expect(audit.events.map((e) => [e.kind, e.user, e.outcome])).toEqual([
      ['sign_in_failed', 'tess', 'bad_password'],
      ['sign_in_failed', 'nobody', 'unknown_user'],
    ]);
    expect(JSON.stringify(audit.events)).not.toContain('not the password');
  });

  it('records an unusable user id as such, not as typed (it might be a password typed in the wrong field)', async () => {
    await refusal(signInWithPassword(deps, 'My Secret Pass!', GOOD_PASSWORD));
    expect(audit.events[0]).toMatchObject({ kind: 'sign_in_failed', user: '(invalid user id)' });
  });

  it(`locks the account after ${LOCKOUT_THRESHOLD} failures in a row, refusing even the right password`, async () => {
    for (let i = 1; i < LOCKOUT_THRESHOLD; i++) await refusal(signInWithPassword(deps, 'tess', `wrong ${i}`));
    expect(audit.kinds()).not.toContain('lockout');
    await refusal(signInWithPassword(deps, 'tess', 'wrong 5'));
    expect(audit.kinds().slice(-2)).toEqual(['sign_in_failed', 'lockout']);
    expect(audit.events.at(-1)).toMatchObject({ user: 'tess', outcome: 'locked', detail: `attempts=5 until=2025-01-01T09:15:00.000Z` });

    const locked = await refusal(signInWithPassword(deps, 'tess', GOOD_PASSWORD));
    expect(locked.reason).toBe('locked');
    expect(locked.message).toContain('locked');
    expect(locked.lockedUntil).toBe('2025-01-01T09:15:00.000Z');
    expect(audit.events.at(-1)).toMatchObject({ kind: 'sign_in_failed', outcome: 'locked' });
  });

  it('lets the account in again once the lockout has run out, with a fresh count', async () => {
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await refusal(signInWithPassword(deps, 'tess', 'wrong'));
    clock.advance(LOCKOUT_MS - 1000);
    expect((await refusal(signInWithPassword(deps, 'tess', GOOD_PASSWORD))).reason).toBe('locked');
    clock.advance(1000);
    await refusal(signInWithPassword(deps, 'tess', 'wrong again'));
    expect((await users.get('tess'))!.failedAttempts).toBe(1);
    expect((await signInWithPassword(deps, 'tess', GOOD_PASSWORD)).userId).toBe('tess');
    expect((await users.get('tess'))!).toMatchObject({ failedAttempts: 0 });
    expect((await users.get('tess'))!.lockoutUntil).toBeUndefined();
  });

  it('resets the count on success, so failures must be in a row to lock', async () => {
    for (let i = 0; i < LOCKOUT_THRESHOLD - 1; i++) await refusal(signInWithPassword(deps, 'tess', 'wrong'));
    await signInWithPassword(deps, 'tess', GOOD_PASSWORD);
    await refusal(signInWithPassword(deps, 'tess', 'wrong'));
    expect((await users.get('tess'))!.failedAttempts).toBe(1);
  });

  it('refuses a disabled account', async () => {
    await users.disable('tess');
    expect((await refusal(signInWithPassword(deps, 'tess', GOOD_PASSWORD))).reason).toBe('disabled');
  });

  it('refuses a service account, whatever password is offered: it cannot sign in interactively', async () => {
    expect((await refusal(signInWithPassword(deps, 'watcher', GOOD_PASSWORD))).reason).toBe('service_account');
    expect((await refusal(signInWithPassword(deps, 'watcher', ''))).reason).toBe('service_account');
    expect((await refusal(signInWithPassword(deps, 'watcher', serviceToken))).reason).toBe('service_account');
    expect(audit.events.every((e) => e.kind === 'sign_in_failed' && e.outcome === 'service_account')).toBe(true);
  });
});

describe('signing in with a service token', () => {
  it('admits the service account holding the token, recording the method', async () => {
    expect(await signInWithServiceToken(deps, 'watcher', serviceToken)).toEqual({ userId: 'watcher', roles: ['tracer'], kind: 'service' });
    expect(audit.events[0]).toMatchObject({ kind: 'sign_in', user: 'watcher', detail: 'method=service_token' });
  });

  it('refuses a wrong token, a person’s id, and a disabled service account, without locking anyone out', async () => {
    for (let i = 0; i < LOCKOUT_THRESHOLD + 1; i++) expect((await refusal(signInWithServiceToken(deps, 'watcher', issueServiceToken().token))).reason).toBe('bad_token');
    expect((await refusal(signInWithServiceToken(deps, 'tess', serviceToken))).reason).toBe('not_a_service_account');
    expect(await signInWithServiceToken(deps, 'watcher', serviceToken)).toMatchObject({ userId: 'watcher' });
    await users.disable('watcher');
    expect((await refusal(signInWithServiceToken(deps, 'watcher', serviceToken))).reason).toBe('disabled');
    expect(JSON.stringify(audit.events)).not.toContain(serviceToken);
  });
});

describe('CLI credentials', () => {
  it('uses PDS_TRACE_PASSWORD for the --as user without prompting', async () => {
    const principal = await signInCli(deps, {
      userId: 'tess',
      env: { PDS_TRACE_PASSWORD: GOOD_PASSWORD },
      promptSecret: () => Promise.reject(new Error('should not prompt')),
    });
    expect(principal.userId).toBe('tess');
  });

  it('asks at the terminal when no password is in the environment, and takes the user from PDS_TRACE_USER', async () => {
    const questions: string[] = [];
    const principal = await signInCli(deps, {
      env: { PDS_TRACE_USER: 'ada' },
      promptSecret: async (q) => {
        questions.push(q);
        return GOOD_PASSWORD;
      },
    });
    expect(principal).toMatchObject({ userId: 'ada', roles: ['admin'] });
    expect(questions).toEqual(['Password for ada: ']);
  });

  it('explains what is missing when there is no user, or no password and no terminal', async () => {
    await expect(signInCli(deps, { env: {} })).rejects.toThrow(CredentialsError);
    await expect(signInCli(deps, { env: {} })).rejects.toThrow(/--as or PDS_TRACE_USER/);
    await expect(signInCli(deps, { userId: 'tess', env: {} })).rejects.toThrow(/PDS_TRACE_PASSWORD/);
    expect(audit.events).toEqual([]);
  });

  it('signs a service account in from PDS_TRACE_SERVICE_ACCOUNT and its token, never prompting', async () => {
    const principal = await signInCli(deps, {
      env: { PDS_TRACE_SERVICE_ACCOUNT: 'watcher', PDS_TRACE_SERVICE_TOKEN: serviceToken, PDS_TRACE_USER: 'ada' },
      promptSecret: () => Promise.reject(new Error('should not prompt')),
    });
    expect(principal).toMatchObject({ userId: 'watcher', kind: 'service' });
  });

  it('refuses a service account without its token, and an --as naming someone else', async () => {
    await expect(signInCli(deps, { env: { PDS_TRACE_SERVICE_ACCOUNT: 'watcher' } })).rejects.toThrow(/PDS_TRACE_SERVICE_TOKEN is not/);
    await expect(signInCli(deps, { userId: 'ada', env: { PDS_TRACE_SERVICE_ACCOUNT: 'watcher', PDS_TRACE_SERVICE_TOKEN: serviceToken } })).rejects.toThrow(/give one/);
  });

  it('will not sign a service account in through the password route', async () => {
    const err = await refusal(signInCli(deps, { userId: 'watcher', env: { PDS_TRACE_PASSWORD: serviceToken } }));
    expect(err.reason).toBe('service_account');
  });
});
