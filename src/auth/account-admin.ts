import { roleField, type NewAuditEvent } from '../audit/event.js';
import type { Principal } from './authorise.js';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, type ScryptParams } from './password.js';
import type { Role } from './roles.js';
import { issueServiceToken } from './service-token.js';
import { lockedAt } from './sign-in-decision.js';
import type { UserKind, UserRecord, UserStore } from './users.js';

/**
 * Administering accounts, one function per action, for every surface that does it (`pds-trace
 * users …`, the web's /admin/users and /api/users, /account): each makes the change through the
 * user store (which keeps the account rules and records the store's digest) and records the
 * action's own audit event, with the same outcome and detail whichever surface asked. Who may act
 * is the caller's check (the permission matrix, and {@link isOwnPassword}); how a new password is
 * obtained (a prompt, a form) is the caller's too — it arrives here in plain and leaves hashed.
 */

/** An event as an action fills it in; the caller stamps time, user, role and origin. */
export type AdminEvent = Omit<NewAuditEvent, 'time' | 'user' | 'role' | 'origin'>;

export interface AccountAdmin {
  /** The user store acting as the signed-in administrator (UserStore.actingAs). */
  users: UserStore;
  /** Records events as done by the signed-in administrator; durable when it resolves. */
  record(events: readonly AdminEvent[]): Promise<void>;
  /** scrypt cost of new password hashes; tests lower it. */
  passwordParams?: ScryptParams;
}

export interface NewAccount {
  id: string;
  displayName?: string;
  roles: readonly Role[];
  kind: UserKind;
  /** People only: checked against the password policy, then only its hash is kept. */
  password?: string;
}

/** A service account's token: given to whoever asked, once, and kept nowhere but as its hash. */
export interface AddedAccount {
  user: UserRecord;
  token?: string;
}

export type AccountState = 'enabled' | 'disabled' | 'locked';

/** Disabled outranks locked: a disabled account stays refused when its lockout runs out. */
export function accountState(user: UserRecord, now: Date): AccountState {
  if (user.disabled) return 'disabled';
  return lockedAt(user, now) ? 'locked' : 'enabled';
}

/**
 * Changing one's own password needs no `users.manage`: a person, for their own account. A service
 * account's token is replaced only by an administrator (it has no password to prove itself with).
 */
export function isOwnPassword(principal: Principal, target: string): boolean {
  return principal.kind === 'person' && principal.userId === target;
}

export async function addAccount(admin: AccountAdmin, account: NewAccount): Promise<AddedAccount> {
  const issued = account.kind === 'service' ? issueServiceToken() : undefined;
  const passwordHash = account.kind === 'person' ? await hashPassword(account.password ?? '', admin.passwordParams ?? DEFAULT_SCRYPT_PARAMS) : undefined;
  const user = await admin.users.add({ id: account.id, displayName: account.displayName, roles: account.roles, kind: account.kind, passwordHash, tokenHash: issued?.hash });
  await admin.record([{ kind: 'user_changed', outcome: 'added', detail: `action=add target=${user.id} kind=${user.kind} roles=${roleField(user.roles)}` }]);
  return { user, token: issued?.token };
}

/** Sets a person's password (which also lifts a lockout: the store's rule). */
export async function setPassword(admin: AccountAdmin, id: string, password: string): Promise<UserRecord> {
  const hash = await hashPassword(password, admin.passwordParams ?? DEFAULT_SCRYPT_PARAMS);
  const user = await admin.users.setPasswordHash(id, hash);
  await admin.record([{ kind: 'user_changed', outcome: 'password_set', detail: `action=passwd target=${id}` }]);
  return user;
}

/** Gives a service account a new token (the old one stops working); returns it, to be shown once. */
export async function replaceToken(admin: AccountAdmin, id: string): Promise<string> {
  const issued = issueServiceToken();
  await admin.users.setTokenHash(id, issued.hash);
  await admin.record([{ kind: 'user_changed', outcome: 'token_replaced', detail: `action=passwd target=${id}` }]);
  return issued.token;
}

export async function disableAccount(admin: AccountAdmin, id: string): Promise<UserRecord> {
  const user = await admin.users.disable(id);
  await admin.record([{ kind: 'user_changed', outcome: 'disabled', detail: `action=disable target=${id}` }]);
  return user;
}

/** Enables the account and lifts any lockout (UserStore.enable); a lifted lockout is its own event. */
export async function enableAccount(admin: AccountAdmin, id: string): Promise<{ user: UserRecord; lockoutLifted: boolean }> {
  const result = await admin.users.enable(id);
  await admin.record([
    { kind: 'user_changed', outcome: 'enabled', detail: `action=enable target=${id}` },
    ...(result.lockoutLifted ? [{ kind: 'lockout_lifted' as const, outcome: 'lifted', detail: `action=enable target=${id}` }] : []),
  ]);
  return result;
}

/** Lifts a lockout and nothing else: unlocking never re-enables a disabled account (UserStore.liftLockout). */
export async function unlockAccount(admin: AccountAdmin, id: string): Promise<{ user: UserRecord; lockoutLifted: boolean }> {
  const result = await admin.users.liftLockout(id);
  if (result.lockoutLifted) await admin.record([{ kind: 'lockout_lifted', outcome: 'lifted', detail: `action=unlock target=${id}` }]);
  return result;
}

export async function setAccountRoles(admin: AccountAdmin, id: string, roles: readonly Role[]): Promise<UserRecord> {
  const before = await admin.users.get(id);
  const after = await admin.users.setRoles(id, roles);
  await admin.record([{ kind: 'role_changed', outcome: 'changed', detail: `target=${id} roles=${roleField(after.roles)} previous=${roleField(before?.roles ?? [])}` }]);
  return after;
}
