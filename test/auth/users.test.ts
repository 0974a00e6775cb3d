import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserStore, UserStoreError, USERS_FILE, type NewUser } from '../../src/auth/users.js';
import { tempFolder } from '../audit/fixtures.js';

let folder: { dir: string; remove: () => Promise<void> };
let store: UserStore;

const person = (id: string, roles: NewUser['roles']): NewUser => ({ id, roles, kind: 'person', passwordHash: 'scrypt$N=1024,r=8,p=1$AAAA$BBBB' });
const service = (id: string, roles: NewUser['roles']): NewUser => ({ id, roles, kind: 'service', tokenHash: 'a'.repeat(64) });

async function problemOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    if (err instanceof UserStoreError) return err.problem;
    throw err;
  }
}

beforeEach(async () => {
  folder = await tempFolder('pds-trace-users-');
  store = await UserStore.open(folder.dir);
});

afterEach(async () => {
  await folder.remove();
});

describe('user store: bootstrap', () => {
  it('accepts only a person with the admin role as the first user', async () => {
    expect(await problemOf(store.add(person('tess', ['tracer'])))).toBe('bootstrap_requires_admin');
    expect(await problemOf(store.add(service('watcher', ['tracer'])))).toBe('bootstrap_requires_admin');
    const admin = await store.add(person('ada', ['admin']));
    expect(admin).toMatchObject({ id: 'ada', roles: ['admin'], kind: 'person', disabled: false, failedAttempts: 0, displayName: 'ada' });
    expect(await store.isEmpty()).toBe(false);
  });

  it('refuses a second sign-in-less first add, so two racing first adds cannot both get in', async () => {
    const results = await Promise.allSettled([store.add(person('ada', ['admin']), { firstOnly: true }), store.add(person('bea', ['admin']), { firstOnly: true })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ problem: 'not_first' });
    expect((await store.list()).map((u) => u.id)).toHaveLength(1);
  });
});

describe('user store: rules', () => {
  beforeEach(async () => {
    await store.add(person('ada', ['admin']));
  });

  it('refuses malformed ids and duplicates', async () => {
    expect(await problemOf(store.add(person('Bad Id', ['tracer'])))).toBe('invalid_id');
    expect(await problemOf(store.add(person('', ['tracer'])))).toBe('invalid_id');
    expect(await problemOf(store.add(person('ada', ['tracer'])))).toBe('exists');
  });

  it('keeps the auditor role apart from every other role', async () => {
    expect(await problemOf(store.add(person('aud', ['auditor', 'tracer'])))).toBe('exclusive_role');
    await store.add(person('aud', ['auditor']));
    expect(await problemOf(store.setRoles('aud', ['auditor', 'operator']))).toBe('exclusive_role');
    expect(await problemOf(store.add(person('none', [])))).toBe('no_roles');
  });

  it('gives service accounts a token, never a password, and never admin or auditor', async () => {
    expect(await problemOf(store.add({ id: 'svc', roles: ['tracer'], kind: 'service', passwordHash: 'x' }))).toBe('wrong_kind');
    expect(await problemOf(store.add({ id: 'p', roles: ['tracer'], kind: 'person', tokenHash: 'a'.repeat(64) }))).toBe('wrong_kind');
    expect(await problemOf(store.add(service('svc', ['admin'])))).toBe('service_role');
    expect(await problemOf(store.add(service('svc', ['auditor'])))).toBe('service_role');
    await store.add(service('svc', ['tracer', 'operator']));
    expect(await problemOf(store.setPasswordHash('svc', 'scrypt$x'))).toBe('wrong_kind');
  });

  it('never leaves the store without an enabled admin', async () => {
    expect(await problemOf(store.disable('ada'))).toBe('last_admin');
    expect(await problemOf(store.setRoles('ada', ['tracer']))).toBe('last_admin');
    await store.add(person('bea', ['admin']));
    await store.disable('ada');
    expect((await store.get('ada'))!.disabled).toBe(true);
    expect(await problemOf(store.setRoles('bea', ['operator']))).toBe('last_admin');
  });

  it('clears failed attempts and lockout when a new password is set', async () => {
    await store.updateSignInState('ada', (u) => {
      u.failedAttempts = 5;
      u.lockoutUntil = '2099-01-01T00:00:00.000Z';
    });
    const after = await store.setPasswordHash('ada', 'scrypt$new');
    expect(after.failedAttempts).toBe(0);
    expect(after.lockoutUntil).toBeUndefined();
  });

  it('reports an unknown user by id', async () => {
    await expect(store.disable('ghost')).rejects.toThrow('user ghost: no such user');
  });
});

describe('user store: the file', () => {
  it('is owner-only JSON that a reopened store reads back', async () => {
    await store.add(person('ada', ['admin']));
    const file = path.join(folder.dir, USERS_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const document = JSON.parse(await readFile(file, 'utf8'));
    expect(document).toMatchObject({ version: 1, users: [{ id: 'ada', roles: ['admin'] }] });
    const reopened = await UserStore.open(folder.dir);
    expect((await reopened.get('ada'))!.roles).toEqual(['admin']);
  });

  it('refuses to work from an edited file it cannot read', async () => {
    await writeFile(path.join(folder.dir, USERS_FILE), JSON.stringify({ version: 1, users: [{ id: 'x', roles: ['root'] }] }));
    await expect(store.list()).rejects.toMatchObject({ problem: 'corrupt' });
  });

  it('loses no update when many changes land at once from separate store instances', async () => {
    await store.add(person('ada', ['admin']));
    const other = await UserStore.open(folder.dir);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? store : other).updateSignInState('ada', (u) => {
          u.failedAttempts += 1;
        }),
      ),
    );
    expect((await store.get('ada'))!.failedAttempts).toBe(10);
  });
});
