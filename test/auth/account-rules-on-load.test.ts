import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserStore, UserStoreRefusedError, USERS_FILE, type NewUser } from '../../src/auth/users.js';
import { tempFolder } from '../audit/fixtures.js';

let folder: { dir: string; remove: () => Promise<void> };
let store: UserStore;

const person = (id: string, roles: NewUser['roles']): NewUser => ({ id, roles, kind: 'person', passwordHash: 'scrypt$N=1024,r=8,p=1$AAAA$BBBB' });

/** Edits users.json behind the store's back, as someone with access to the data folder could. */
async function editUsers(edit: (users: Array<Record<string, unknown>>) => void): Promise<void> {
  const file = path.join(folder.dir, USERS_FILE);
  const document = JSON.parse(await readFile(file, 'utf8')) as { users: Array<Record<string, unknown>> };
  edit(document.users);
  await writeFile(file, JSON.stringify(document));
}

async function refusal(): Promise<UserStoreRefusedError> {
  const err = await store.list().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserStoreRefusedError);
  return err as UserStoreRefusedError;
}

beforeEach(async () => {
  folder = await tempFolder('pds-trace-rules-on-load-');
  store = await UserStore.open(folder.dir);
  await store.add(person('ada', ['admin']));
  await store.add(person('aud', ['auditor']));
  await store.add({ id: 'svc', roles: ['tracer'], kind: 'service', tokenHash: 'a'.repeat(64) });
});

afterEach(async () => {
  await folder.remove();
});

describe('a users.json edited to break the role rules is refused on load', () => {
  it('refuses an auditor given another role, naming the account and the rule', async () => {
    await editUsers((users) => {
      users.find((u) => u.id === 'aud')!.roles = ['auditor', 'admin'];
    });
    const err = await refusal();
    expect(err).toMatchObject({ problem: 'exclusive_role', userId: 'aud' });
    expect(err.message).toContain('user aud: auditor cannot be combined with another role');
    expect(err.message).toContain('nobody can sign in');
  });

  it('refuses an unknown role, a service account made admin, a service account given a password, and a duplicate id', async () => {
    const cases: Array<[(users: Array<Record<string, unknown>>) => void, string, string]> = [
      [(u) => void (u[0]!.roles = ['root']), 'unknown_role', 'ada'],
      [(u) => void (u[2]!.roles = ['admin']), 'service_role', 'svc'],
      [(u) => void (u[2]!.passwordHash = 'scrypt$x'), 'wrong_kind', 'svc'],
      [(u) => void (u[1]!.roles = []), 'no_roles', 'aud'],
      [(u) => void u.push({ ...u[1]!, roles: ['admin'] }), 'exists', 'aud'],
    ];
    const original = await readFile(path.join(folder.dir, USERS_FILE), 'utf8');
    for (const [edit, problem, userId] of cases) {
      await writeFile(path.join(folder.dir, USERS_FILE), original);
      await editUsers(edit);
      expect(await refusal()).toMatchObject({ problem, userId });
    }
  });

  it('refuses every operation, changes included, until the file is put right', async () => {
    await editUsers((users) => {
      users[0]!.roles = ['admin', 'auditor'];
    });
    await expect(store.get('svc')).rejects.toBeInstanceOf(UserStoreRefusedError);
    await expect(store.disable('svc')).rejects.toBeInstanceOf(UserStoreRefusedError);
    await editUsers((users) => {
      users[0]!.roles = ['admin'];
    });
    expect((await store.get('ada'))!.roles).toEqual(['admin']);
  });
});
