import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import { withFileLock } from '../audit/file-lock.js';
import { EXCLUSIVE_ROLES, ROLE_NAMES, type Role } from './roles.js';

/**
 * The local user store: `<dataDir>/users.json`, owner-only, replaced atomically on every change
 * under a lock file so two pds-trace processes never lose each other's update (a failed sign-in
 * counted by one and a password set by another).
 *
 * Rules kept here, so no command or route can bypass them:
 * - bootstrap: the first user added to an empty store must be a person with the `admin` role (that
 *   add needs no sign-in — there is nobody to sign in as; see users/command.ts);
 * - the audit separation: `auditor` is never combined with another role (roles.ts);
 * - service accounts have no password (they use a token) and cannot be `admin` or `auditor`:
 *   unattended work submits and runs batches, it does not manage users or read the trail;
 * - the last enabled admin cannot be disabled or lose the role, which would leave nobody able to
 *   manage users.
 */

export const USERS_FILE = 'users.json';

/** Lower-case letters, digits, `.`, `_`, `-`; what audit events and SMSP usernames carry. */
export const USER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export type UserKind = 'person' | 'service';

export interface UserRecord {
  id: string;
  displayName: string;
  roles: Role[];
  kind: UserKind;
  disabled: boolean;
  /** scrypt hash (password.ts); people only. */
  passwordHash?: string;
  /** SHA-256 of the service token (service-token.ts); service accounts only. */
  tokenHash?: string;
  /** Failed sign-ins since the last success or lockout expiry. */
  failedAttempts: number;
  /** ISO time until which sign-in is refused. */
  lockoutUntil?: string;
  createdAt: string;
  updatedAt: string;
}

export type UserStoreProblem =
  | 'invalid_id'
  | 'exists'
  | 'not_found'
  | 'no_roles'
  | 'exclusive_role'
  | 'service_role'
  | 'bootstrap_requires_admin'
  | 'not_first'
  | 'last_admin'
  | 'wrong_kind'
  | 'corrupt';

const PROBLEM_TEXT: Record<UserStoreProblem, string> = {
  invalid_id: 'a user id is 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  exists: 'a user with this id already exists',
  not_found: 'no such user',
  no_roles: 'a user needs at least one role',
  exclusive_role: `${[...EXCLUSIVE_ROLES].join(', ')} cannot be combined with another role (viewing the audit trail is kept separate)`,
  service_role: 'a service account cannot be admin or auditor',
  bootstrap_requires_admin: 'the first user must be a person with the admin role',
  not_first: 'users already exist: sign in as an admin to add more',
  last_admin: 'this would leave no enabled admin',
  wrong_kind: 'not possible for this kind of account',
  corrupt: 'the user store is not readable',
};

/** A user-store rule refused the change. Names the user id and the rule, nothing else. */
export class UserStoreError extends Error {
  override readonly name = 'UserStoreError';
  constructor(
    readonly problem: UserStoreProblem,
    readonly userId?: string,
  ) {
    super(userId === undefined ? PROBLEM_TEXT[problem] : `user ${userId}: ${PROBLEM_TEXT[problem]}`);
  }
}

const USER_RECORD = z
  .object({
    id: z.string().regex(USER_ID_PATTERN),
    displayName: z.string(),
    roles: z.array(z.enum(ROLE_NAMES as [Role, ...Role[]])),
    kind: z.enum(['person', 'service']),
    disabled: z.boolean(),
    passwordHash: z.string().optional(),
    tokenHash: z.string().optional(),
    failedAttempts: z.number().int().min(0),
    lockoutUntil: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .strict();

const USERS_DOCUMENT = z.object({ version: z.literal(1), users: z.array(USER_RECORD) }).strict();

export interface NewUser {
  id: string;
  displayName?: string;
  roles: readonly Role[];
  kind: UserKind;
  passwordHash?: string;
  tokenHash?: string;
}

export interface UserStoreOptions {
  clock?: () => Date;
  lockTimeoutMs?: number;
}

export function checkUserId(id: string): void {
  if (!USER_ID_PATTERN.test(id)) throw new UserStoreError('invalid_id');
}

function checkRoles(id: string, kind: UserKind, roles: readonly Role[]): void {
  if (roles.length === 0) throw new UserStoreError('no_roles', id);
  if (roles.length > 1 && roles.some((r) => EXCLUSIVE_ROLES.has(r))) throw new UserStoreError('exclusive_role', id);
  if (kind === 'service' && roles.some((r) => r === 'admin' || r === 'auditor')) throw new UserStoreError('service_role', id);
}

function isActiveAdmin(user: UserRecord): boolean {
  return user.kind === 'person' && !user.disabled && user.roles.includes('admin');
}

export class UserStore {
  readonly path: string;
  readonly #lockPath: string;
  readonly #clock: () => Date;
  readonly #lockTimeoutMs: number | undefined;

  private constructor(file: string, options: UserStoreOptions) {
    this.path = file;
    this.#lockPath = `${file}.lock`;
    this.#clock = options.clock ?? (() => new Date());
    this.#lockTimeoutMs = options.lockTimeoutMs;
  }

  static async open(dataDir: string, options: UserStoreOptions = {}): Promise<UserStore> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    return new UserStore(path.join(dataDir, USERS_FILE), options);
  }

  async list(): Promise<UserRecord[]> {
    return this.#read();
  }

  async get(id: string): Promise<UserRecord | undefined> {
    return (await this.#read()).find((u) => u.id === id);
  }

  async isEmpty(): Promise<boolean> {
    return (await this.#read()).length === 0;
  }

  /**
   * Adds a user. `firstOnly` is the bootstrap add, made without sign-in: it is refused unless the
   * store is empty at the moment of writing (under the lock), so two racing first adds cannot both
   * get in.
   */
  async add(user: NewUser, options: { firstOnly?: boolean } = {}): Promise<UserRecord> {
    checkUserId(user.id);
    checkRoles(user.id, user.kind, user.roles);
    if (user.kind === 'person' ? user.passwordHash === undefined || user.tokenHash !== undefined : user.tokenHash === undefined || user.passwordHash !== undefined) {
      throw new UserStoreError('wrong_kind', user.id);
    }
    return this.#mutate(async (users) => {
      if (options.firstOnly && users.length > 0) throw new UserStoreError('not_first', user.id);
      if (users.length === 0 && !(user.kind === 'person' && user.roles.includes('admin'))) throw new UserStoreError('bootstrap_requires_admin', user.id);
      if (users.some((u) => u.id === user.id)) throw new UserStoreError('exists', user.id);
      const now = this.#clock().toISOString();
      const record: UserRecord = {
        id: user.id,
        displayName: user.displayName ?? user.id,
        roles: [...new Set(user.roles)],
        kind: user.kind,
        disabled: false,
        passwordHash: user.passwordHash,
        tokenHash: user.tokenHash,
        failedAttempts: 0,
        createdAt: now,
        updatedAt: now,
      };
      users.push(record);
      return record;
    });
  }

  /** Sets a person's password hash; also clears failed attempts and any lockout. */
  setPasswordHash(id: string, passwordHash: string): Promise<UserRecord> {
    return this.#change(id, (user) => {
      if (user.kind !== 'person') throw new UserStoreError('wrong_kind', id);
      user.passwordHash = passwordHash;
      user.failedAttempts = 0;
      delete user.lockoutUntil;
    });
  }

  /** Replaces a service account's token hash (the old token stops working). */
  setTokenHash(id: string, tokenHash: string): Promise<UserRecord> {
    return this.#change(id, (user) => {
      if (user.kind !== 'service') throw new UserStoreError('wrong_kind', id);
      user.tokenHash = tokenHash;
    });
  }

  setDisabled(id: string, disabled: boolean): Promise<UserRecord> {
    return this.#change(id, (user, users) => {
      if (disabled && isActiveAdmin(user) && users.filter(isActiveAdmin).length === 1) throw new UserStoreError('last_admin', id);
      user.disabled = disabled;
    });
  }

  setRoles(id: string, roles: readonly Role[]): Promise<UserRecord> {
    return this.#change(id, (user, users) => {
      checkRoles(id, user.kind, roles);
      if (isActiveAdmin(user) && !roles.includes('admin') && users.filter(isActiveAdmin).length === 1) throw new UserStoreError('last_admin', id);
      user.roles = [...new Set(roles)];
    });
  }

  /**
   * Changes a user's sign-in counters under the store lock (lockout bookkeeping in
   * authenticate.ts). Not an administrative change: `updatedAt` stays.
   */
  updateSignInState(id: string, change: (user: UserRecord) => void): Promise<UserRecord> {
    return this.#mutate(async (users) => {
      const user = users.find((u) => u.id === id);
      if (!user) throw new UserStoreError('not_found', id);
      change(user);
      return { ...user };
    });
  }

  #change(id: string, change: (user: UserRecord, users: UserRecord[]) => void): Promise<UserRecord> {
    return this.#mutate(async (users) => {
      const user = users.find((u) => u.id === id);
      if (!user) throw new UserStoreError('not_found', id);
      change(user, users);
      user.updatedAt = this.#clock().toISOString();
      return { ...user };
    });
  }

  async #mutate<T>(change: (users: UserRecord[]) => Promise<T>): Promise<T> {
    return withFileLock(
      this.#lockPath,
      async () => {
        const users = await this.#read();
        const result = await change(users);
        await writeFileAtomic(this.path, `${JSON.stringify({ version: 1, users }, null, 2)}\n`);
        return result;
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
  }

  async #read(): Promise<UserRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UserStoreError('corrupt');
    }
    const document = USERS_DOCUMENT.safeParse(parsed);
    if (!document.success) throw new UserStoreError('corrupt');
    return document.data.users.map((u) => Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)) as unknown as UserRecord);
  }
}
