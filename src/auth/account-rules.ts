import { EXCLUSIVE_ROLES, isRole, type Role } from './roles.js';

/**
 * The rules every account in the user store must keep, ONE function per rule, applied both when
 * a change is made (`users add`, `users set-roles` …) and when users.json is loaded — so a rule a
 * command refuses cannot be slipped in by editing the file instead.
 */

/** Lower-case letters, digits, `.`, `_`, `-`; what audit events and SMSP usernames carry. */
export const USER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export type UserKind = 'person' | 'service';

export type UserStoreProblem =
  | 'invalid_id'
  | 'exists'
  | 'not_found'
  | 'no_roles'
  | 'unknown_role'
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
  unknown_role: 'a role that pds-trace does not have',
  exclusive_role: `${[...EXCLUSIVE_ROLES].join(', ')} cannot be combined with another role (viewing the audit trail is kept separate)`,
  service_role: 'a service account cannot be admin or auditor',
  bootstrap_requires_admin: 'the first user must be a person with the admin role',
  not_first: 'users already exist: sign in as an admin to add more',
  last_admin: 'this would leave no enabled admin',
  wrong_kind: 'a person has a password and no token, a service account a token and no password',
  corrupt: 'the user store is not readable',
};

/** A user-store rule refused the change. Names the user id and the rule, nothing else. */
export class UserStoreError extends Error {
  override readonly name: string = 'UserStoreError';
  constructor(
    readonly problem: UserStoreProblem,
    readonly userId?: string,
  ) {
    super(userId === undefined ? PROBLEM_TEXT[problem] : `user ${userId}: ${PROBLEM_TEXT[problem]}`);
  }
}

/**
 * users.json as found breaks a rule (it was edited by hand): nothing is read from it, so nobody
 * signs in until it is put right. Names the file, the account and the rule.
 */
export class UserStoreRefusedError extends UserStoreError {
  override readonly name: string = 'UserStoreRefusedError';
  constructor(
    readonly file: string,
    problem: UserStoreProblem,
    userId?: string,
  ) {
    super(problem, userId);
    this.message = `${file} refused: ${this.message}; nobody can sign in until the file keeps the rules`;
  }
}

/** The fields the rules look at. */
export interface AccountShape {
  id: string;
  kind: UserKind;
  roles: readonly string[];
  passwordHash?: string;
  tokenHash?: string;
}

export function checkUserId(id: string): void {
  if (!USER_ID_PATTERN.test(id)) throw new UserStoreError('invalid_id', undefined);
}

export function checkRoles(id: string, kind: UserKind, roles: readonly string[]): asserts roles is readonly Role[] {
  if (roles.length === 0) throw new UserStoreError('no_roles', id);
  if (!roles.every(isRole)) throw new UserStoreError('unknown_role', id);
  if (roles.length > 1 && roles.some((r) => EXCLUSIVE_ROLES.has(r as Role))) throw new UserStoreError('exclusive_role', id);
  if (kind === 'service' && roles.some((r) => r === 'admin' || r === 'auditor')) throw new UserStoreError('service_role', id);
}

/** People sign in with a password, service accounts with a token; never the other. */
export function checkCredentials(account: AccountShape): void {
  const ok =
    account.kind === 'person'
      ? account.passwordHash !== undefined && account.tokenHash === undefined
      : account.tokenHash !== undefined && account.passwordHash === undefined;
  if (!ok) throw new UserStoreError('wrong_kind', account.id);
}

/** Every rule one account must keep on its own. */
export function checkAccount(account: AccountShape): void {
  checkUserId(account.id);
  checkRoles(account.id, account.kind, account.roles);
  checkCredentials(account);
}

/** Every rule the accounts of a whole store must keep: each account's own, and unique ids. */
export function checkAccounts(accounts: readonly AccountShape[]): void {
  const seen = new Set<string>();
  for (const account of accounts) {
    if (!USER_ID_PATTERN.test(account.id)) throw new UserStoreError('invalid_id', JSON.stringify(account.id));
    checkAccount(account);
    if (seen.has(account.id)) throw new UserStoreError('exists', account.id);
    seen.add(account.id);
  }
}
