import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountState, addAccount, disableAccount, unlockAccount, type AccountAdmin } from '../../src/auth/account-admin.js';
import { hashPassword } from '../../src/auth/password.js';
import { UserStore } from '../../src/auth/users.js';
import { tempFolder } from '../audit/fixtures.js';
import { FAST_SCRYPT, GOOD_PASSWORD, ManualClock, RecordingAudit } from './fixtures.js';

/** The account actions pds-trace users and the web share (account-admin.ts), on a store without a ledger. */

let folder: { dir: string; remove: () => Promise<void> };
let store: UserStore;
let audit: RecordingAudit;
let admin: AccountAdmin;
const clock = new ManualClock();

beforeEach(async () => {
  folder = await tempFolder('pds-trace-account-admin-');
  store = await UserStore.open(folder.dir, { clock: clock.now });
  await store.add({ id: 'ada', kind: 'person', roles: ['admin'], passwordHash: await hashPassword(GOOD_PASSWORD, FAST_SCRYPT) });
  audit = new RecordingAudit();
  admin = { users: store, passwordParams: FAST_SCRYPT, record: async (events) => void (await audit.append(events.map((e) => ({ ...e, time: clock.now().toISOString(), user: 'ada', role: 'admin' })))) };
});
afterEach(async () => folder.remove());

async function lock(id: string): Promise<void> {
  await store.updateSignInState(id, (user) => {
    user.failedAttempts = 5;
    user.lockoutUntil = new Date(clock.now().getTime() + 60_000).toISOString();
  });
}

describe('unlockAccount', () => {
  it('lifts a lockout without enabling a disabled account, recorded as lockout_lifted', async () => {
    await addAccount(admin, { id: 'tess', kind: 'person', roles: ['tracer'], password: GOOD_PASSWORD });
    await lock('tess');
    await disableAccount(admin, 'tess');
    expect(accountState((await store.get('tess'))!, clock.now())).toBe('disabled');
    const { user, lockoutLifted } = await unlockAccount(admin, 'tess');
    expect(lockoutLifted).toBe(true);
    expect(user).toMatchObject({ disabled: true, failedAttempts: 0 });
    expect(user.lockoutUntil).toBeUndefined();
    expect(audit.events.at(-1)).toMatchObject({ kind: 'lockout_lifted', outcome: 'lifted', detail: 'action=unlock target=tess' });
  });

  it('writes and records nothing when there is nothing to lift', async () => {
    await addAccount(admin, { id: 'tess', kind: 'person', roles: ['tracer'], password: GOOD_PASSWORD });
    const before = await store.get('tess');
    const recorded = audit.events.length;
    clock.advance(1000);
    expect((await unlockAccount(admin, 'tess')).lockoutLifted).toBe(false);
    expect(await store.get('tess')).toEqual(before);
    expect(audit.events).toHaveLength(recorded);
  });

  it('counts a lockout that has run out as nothing lifted, but clears the count', async () => {
    await addAccount(admin, { id: 'tess', kind: 'person', roles: ['tracer'], password: GOOD_PASSWORD });
    await lock('tess');
    expect(accountState((await store.get('tess'))!, clock.now())).toBe('locked');
    clock.advance(120_000);
    expect(accountState((await store.get('tess'))!, clock.now())).toBe('enabled');
    expect(await unlockAccount(admin, 'tess')).toMatchObject({ lockoutLifted: false, user: { failedAttempts: 0 } });
  });
});

describe('addAccount', () => {
  it('keeps a service account’s token only as its hash and returns it once', async () => {
    const { user, token } = await addAccount(admin, { id: 'svc-a', kind: 'service', roles: ['tracer'] });
    expect(token).toMatch(/^pdst_/);
    expect(JSON.stringify(await store.get('svc-a'))).not.toContain(token!);
    expect(user.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(audit.events.at(-1)).toMatchObject({ kind: 'user_changed', outcome: 'added', detail: 'action=add target=svc-a kind=service roles=tracer' });
  });

  it('refuses a person without a password that keeps the policy, adding nobody and recording nothing', async () => {
    await expect(addAccount(admin, { id: 'tess', kind: 'person', roles: ['tracer'], password: 'short' })).rejects.toThrow('at least 12 characters');
    await expect(addAccount(admin, { id: 'tess', kind: 'person', roles: ['tracer'] })).rejects.toThrow('at least 12 characters');
    expect(await store.get('tess')).toBeUndefined();
    expect(audit.events).toEqual([]);
  });
});
