import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { roleField } from '../audit/event.js';
import { writeFileAtomic } from '../csv/output/atomic-file.js';
import { withFileLock } from '../audit/file-lock.js';
import { checkAccount, checkAccounts, checkRoles, UserStoreError, UserStoreRefusedError, type UserKind } from './account-rules.js';
import type { Role } from './roles.js';
import { lockedAt } from './sign-in-decision.js';
import { userStoreDigest, UserStoreNotAcceptedError, type StoreActor, type UserStoreLedger } from './store-ledger.js';

/**
 * The local user store: `<dataDir>/users.json`, owner-only, replaced atomically on every change
 * under a lock file so two pds-trace processes never lose each other's update (a failed sign-in
 * counted by one and a password set by another).
 *
 * Rules kept here (the per-account ones in account-rules.ts, also checked whenever the file is
 * loaded, so a hand edit cannot grant what a command would refuse), so no command or route can
 * bypass them:
 * - bootstrap: the first user added to an empty store must be a person with the `admin` role (that
 *   add needs no sign-in — there is nobody to sign in as; see users/command.ts);
 * - the audit separation: `auditor` is never combined with another role (roles.ts);
 * - service accounts have no password (they use a token) and cannot be `admin` or `auditor`:
 *   unattended work submits and runs batches, it does not manage users or read the trail;
 * - the last enabled admin cannot be disabled or lose the role, which would leave nobody able to
 *   manage users;
 * - with a ledger (every store the CLI opens, recorded-user-store.ts), each write's digest goes into
 *   the audit trail, and no sign-in decision or change is made while users.json is not the state
 *   last recorded there (store-ledger.ts; `users accept-store` in accept-store.ts).
 */

export const USERS_FILE = 'users.json';
/** A copy of the accounts as last recorded in the audit trail: what `users accept-store` signs in against. */
export const RECORDED_USERS_FILE = 'users.recorded.json';

export { USER_ID_PATTERN, UserStoreError, UserStoreRefusedError, checkUserId, type UserKind, type UserStoreProblem } from './account-rules.js';

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

const USER_RECORD = z
  .object({
    // id and roles: checked by the account rules after parsing, which name the account and rule.
    id: z.string(),
    displayName: z.string(),
    roles: z.array(z.string()),
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
  /**
   * Where each change's digest is recorded and the last one read back (store-ledger.ts). Every
   * store the CLI opens has one; without one (unit tests) nothing is recorded or checked.
   */
  ledger?: UserStoreLedger;
  /** Who the recorded changes are by; by default the account changed (its own sign-in). */
  actor?: StoreActor;
}

/** What `users accept-store` decides from (accept-store.ts). */
export interface StoreStateForAccept {
  /** The accounts in users.json now (already checked against the rules). */
  current: UserRecord[];
  digest: string;
  /** The digest last recorded in the audit trail; undefined if none ever was. */
  recordedDigest: string | undefined;
  /** users.recorded.json: the accounts as last recorded, if the file is there and readable. */
  recordedCopy: UserRecord[] | undefined;
}

/** What a write changed, for its user_store_changed event. */
interface ChangeLabel {
  change: string;
  target?: string;
}

/** users.json's text, as the store writes it. */
function serialiseUsers(users: readonly UserRecord[]): string {
  return `${JSON.stringify({ version: 1, users }, null, 2)}\n`;
}

function isActiveAdmin(user: UserRecord): boolean {
  return user.kind === 'person' && !user.disabled && user.roles.includes('admin');
}

export class UserStore {
  readonly path: string;
  readonly #lockPath: string;
  readonly #clock: () => Date;
  readonly #lockTimeoutMs: number | undefined;
  readonly #options: UserStoreOptions;

  private constructor(file: string, options: UserStoreOptions) {
    this.path = file;
    this.#lockPath = `${file}.lock`;
    this.#clock = options.clock ?? (() => new Date());
    this.#lockTimeoutMs = options.lockTimeoutMs;
    this.#options = options;
  }

  /** The same store, its changes recorded as made by `actor` (the signed-in admin). */
  actingAs(actor: StoreActor): UserStore {
    return new UserStore(this.path, { ...this.#options, actor });
  }

  get #recordedCopyPath(): string {
    return path.join(path.dirname(this.path), RECORDED_USERS_FILE);
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
    checkAccount(user);
    return this.#mutate({ change: 'added', target: user.id }, async (users) => {
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
    return this.#change(id, 'password_set', (user) => {
      if (user.kind !== 'person') throw new UserStoreError('wrong_kind', id);
      user.passwordHash = passwordHash;
      user.failedAttempts = 0;
      delete user.lockoutUntil;
    });
  }

  /** Replaces a service account's token hash (the old token stops working). */
  setTokenHash(id: string, tokenHash: string): Promise<UserRecord> {
    return this.#change(id, 'token_replaced', (user) => {
      if (user.kind !== 'service') throw new UserStoreError('wrong_kind', id);
      user.tokenHash = tokenHash;
    });
  }

  disable(id: string): Promise<UserRecord> {
    return this.#change(id, 'disabled', (user, users) => {
      if (isActiveAdmin(user) && users.filter(isActiveAdmin).length === 1) throw new UserStoreError('last_admin', id);
      user.disabled = true;
    });
  }

  /**
   * Lets the account sign in again: clears `disabled`, and also the failed-attempt count and any
   * lockout, since an admin enabling an account is vouching for it (as when setting a password).
   * `lockoutLifted` says whether a lockout was in force, for the audit trail.
   */
  async enable(id: string): Promise<{ user: UserRecord; lockoutLifted: boolean }> {
    let lockoutLifted = false;
    const user = await this.#change(id, 'enabled', (record) => {
      lockoutLifted = lockedAt(record, this.#clock());
      record.disabled = false;
      record.failedAttempts = 0;
      delete record.lockoutUntil;
    });
    return { user, lockoutLifted };
  }

  /**
   * Lifts a lockout after failed sign-ins (and clears the count towards one) without enabling the
   * account: a disabled account stays disabled, so unlocking cannot quietly let it back in. Writes
   * nothing when there is nothing to lift.
   */
  async liftLockout(id: string): Promise<{ user: UserRecord; lockoutLifted: boolean }> {
    let lockoutLifted = false;
    const user = await this.#mutate({ change: 'lockout_lifted', target: id }, async (users) => {
      const record = users.find((u) => u.id === id);
      if (!record) throw new UserStoreError('not_found', id);
      lockoutLifted = lockedAt(record, this.#clock());
      if (record.failedAttempts !== 0 || record.lockoutUntil !== undefined) {
        record.failedAttempts = 0;
        delete record.lockoutUntil;
        record.updatedAt = this.#clock().toISOString();
      }
      return { ...record };
    });
    return { user, lockoutLifted };
  }

  setRoles(id: string, roles: readonly Role[]): Promise<UserRecord> {
    return this.#change(id, 'roles_set', (user, users) => {
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
    return this.decideForAccount(id, (user) => {
      if (!user) throw new UserStoreError('not_found', id);
      change(user);
      return { ...user };
    });
  }

  /**
   * Runs `decide` on the account's record (undefined if there is none) under the store lock, and
   * writes what it changed — nothing, if it changed nothing. Every sign-in decision goes through
   * here, so decisions about one account happen one at a time across processes on this machine.
   */
  decideForAccount<T>(id: string, decide: (user: UserRecord | undefined) => T): Promise<T> {
    return this.#mutate({ change: 'sign_in', target: id }, async (users) => decide(users.find((u) => u.id === id)));
  }

  #change(id: string, label: string, change: (user: UserRecord, users: UserRecord[]) => void): Promise<UserRecord> {
    return this.#mutate({ change: label, target: id }, async (users) => {
      const user = users.find((u) => u.id === id);
      if (!user) throw new UserStoreError('not_found', id);
      change(user, users);
      user.updatedAt = this.#clock().toISOString();
      return { ...user };
    });
  }

  /**
   * Read, check against the recorded digest, change, write, record — all under the lock, so the
   * latest recorded digest is always the latest write's, and no change is made on top of a state
   * nobody accepted (that would record, and so launder, a hand edit).
   */
  async #mutate<T>(label: ChangeLabel, change: (users: UserRecord[]) => Promise<T>): Promise<T> {
    return withFileLock(
      this.#lockPath,
      async () => {
        const users = await this.#read();
        await this.#checkRecorded(users);
        const before = serialiseUsers(users);
        const result = await change(users);
        const after = serialiseUsers(users);
        if (after !== before) {
          await writeFileAtomic(this.path, after);
          await this.#record(users, label);
        }
        return result;
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
  }

  /**
   * Whether users.json is the state last recorded (or, with nothing recorded, empty), read without
   * the lock: a hint for `users accept-store`, which decides again under it.
   */
  async recordedState(): Promise<{ asRecorded: boolean; digest: string }> {
    const users = await this.#read();
    const digest = userStoreDigest(users);
    return { asRecorded: await this.#isAsRecorded(users, digest), digest };
  }

  async #isAsRecorded(users: readonly UserRecord[], digest: string): Promise<boolean> {
    const latestDigest = this.#options.ledger?.latestDigest;
    if (!latestDigest) return true;
    const recorded = await latestDigest();
    // Nothing recorded and nothing there: a new installation (first admin, simulator mode).
    return recorded === digest || (recorded === undefined && users.length === 0);
  }

  async #checkRecorded(users: readonly UserRecord[]): Promise<void> {
    const digest = userStoreDigest(users);
    if (await this.#isAsRecorded(users, digest)) return;
    throw new UserStoreNotAcceptedError(this.path, digest, await this.#options.ledger!.latestDigest!());
  }

  async #record(users: readonly UserRecord[], label: ChangeLabel, note?: string): Promise<void> {
    const ledger = this.#options.ledger;
    if (!ledger) return;
    const target = label.target === undefined ? undefined : users.find((u) => u.id === label.target);
    const actor = this.#options.actor ?? { user: label.target ?? '(unknown)', role: target ? roleField(target.roles) : '' };
    await ledger.record({ digest: userStoreDigest(users), change: label.change, target: label.target, actor, note });
    // Only once recorded: the copy is what the trail vouches for.
    await writeFileAtomic(this.#recordedCopyPath, serialiseUsers(users));
  }

  /**
   * `users accept-store`: under the lock, hands `decide` the accounts as they are and what the
   * trail vouches for; if it returns an acceptance, records the accounts as they are, accepted by
   * its actor (known only once `decide` has signed them in).
   */
  async accept(decide: (state: StoreStateForAccept) => Promise<{ actor: StoreActor; note: string } | undefined>): Promise<void> {
    return withFileLock(
      this.#lockPath,
      async () => {
        const current = await this.#read();
        const state: StoreStateForAccept = {
          current,
          digest: userStoreDigest(current),
          recordedDigest: await this.#options.ledger?.latestDigest?.(),
          recordedCopy: await this.#readFile(this.#recordedCopyPath).catch(() => undefined),
        };
        const acceptance = await decide(state);
        if (acceptance) await this.actingAs(acceptance.actor).#record(current, { change: 'accepted' }, acceptance.note);
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
  }

  #read(): Promise<UserRecord[]> {
    return this.#readFile(this.path).then((users) => users ?? []);
  }

  /** The accounts in `file`, checked against the rules; undefined if there is no such file. */
  async #readFile(file: string): Promise<UserRecord[] | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
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
    try {
      checkAccounts(document.data.users);
    } catch (err) {
      if (err instanceof UserStoreError) throw new UserStoreRefusedError(file, err.problem, err.userId);
      throw err;
    }
    return document.data.users.map((u) => Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)) as unknown as UserRecord);
  }
}
