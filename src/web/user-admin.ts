import { z } from 'zod';
import { accountState, addAccount, disableAccount, enableAccount, isOwnPassword, replaceToken, setAccountRoles, setPassword, unlockAccount, type AccountAdmin, type AccountState } from '../auth/account-admin.js';
import { AuthenticationError, signInWithPassword } from '../auth/authenticate.js';
import { hasPermission, type Principal } from '../auth/authorise.js';
import { checkPasswordPolicy, PasswordPolicyError } from '../auth/password.js';
import { isRole, type Role } from '../auth/roles.js';
import { UserStoreNotAcceptedError } from '../auth/store-ledger.js';
import { checkRoles } from '../auth/account-rules.js';
import { USER_ID_PATTERN, UserStoreError, type UserKind, type UserRecord, type UserStoreProblem } from '../auth/users.js';
import { roleField } from '../audit/event.js';
import { auditAs } from './access-hook.js';
import type { ProblemCode } from './problems.js';
import type { WebContext } from './server.js';

/**
 * User administration on the web — `/admin/users`, `/api/users`, `/account` — as the CLI's
 * `pds-trace users` does it: the same actions (src/auth/account-admin.ts), the same store and
 * rules, the same audit events, done as the signed-in principal. What the web adds is who may ask
 * (users.manage, or a person for their own password, proving it with the current one: a session
 * left open is not enough), and the refusals as stable codes, each naming the field it concerns.
 */

/** A refused request: its status, its code for scripts and, for forms, the field it is about. */
export class UserAdminProblem extends Error {
  override readonly name = 'UserAdminProblem';
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const STORE_PROBLEMS: Partial<Record<UserStoreProblem, { status: number; code: ProblemCode; field?: string; message?: string }>> = {
  invalid_id: { status: 400, code: 'invalid_user', field: 'id', message: 'Enter a user id of 1 to 64 lower-case letters, digits, dots, underscores or hyphens, starting with a letter or digit' },
  exists: { status: 409, code: 'user_exists', field: 'id', message: 'A user with this id already exists' },
  not_found: { status: 404, code: 'not_found', message: 'There is no user with that id' },
  no_roles: { status: 400, code: 'invalid_roles', field: 'roles', message: 'Choose at least one role' },
  unknown_role: { status: 400, code: 'invalid_roles', field: 'roles' },
  exclusive_role: { status: 400, code: 'exclusive_role', field: 'roles', message: 'The auditor role cannot be combined with another role: viewing the audit trail is kept separate' },
  service_role: { status: 400, code: 'service_role', field: 'roles', message: 'A service account cannot be admin or auditor' },
  last_admin: { status: 409, code: 'last_admin', message: 'This would leave no enabled admin to manage users' },
  wrong_kind: { status: 400, code: 'wrong_kind', field: 'password', message: 'A person has a password; a service account has a token instead' },
};

function storeProblem(problem: UserStoreProblem, id?: string): UserAdminProblem {
  return asProblem(new UserStoreError(problem, id))!;
}

/** The account rules' and the password policy's refusals as problems; anything else is not ours to explain. */
export function asProblem(err: unknown): UserAdminProblem | undefined {
  if (err instanceof UserAdminProblem) return err;
  if (err instanceof PasswordPolicyError) return new UserAdminProblem(400, 'weak_password', `The password is too ${err.rule === 'too_short' ? 'short' : 'long'}: ${err.message}`, 'password');
  if (err instanceof UserStoreNotAcceptedError) return new UserAdminProblem(409, 'store_not_accepted', 'Users cannot be changed until an administrator checks the user accounts (pds-trace users accept-store).');
  if (err instanceof UserStoreError) {
    const known = STORE_PROBLEMS[err.problem];
    if (known) return new UserAdminProblem(known.status, known.code, known.message ?? err.message, known.field);
  }
  return undefined;
}

/** An account as the API and the page show it: never a password or token hash. */
export interface AccountView {
  id: string;
  displayName: string;
  kind: UserKind;
  roles: Role[];
  state: AccountState;
  disabled: boolean;
  /** ISO time until which sign-in is refused after failed attempts; null when not locked. */
  lockedUntil: string | null;
  failedAttempts: number;
  createdAt: string;
  updatedAt: string;
}

export function accountView(user: UserRecord, now: Date): AccountView {
  const state = accountState(user, now);
  const locked = user.lockoutUntil !== undefined && Date.parse(user.lockoutUntil) > now.getTime();
  return {
    id: user.id,
    displayName: user.displayName,
    kind: user.kind,
    roles: [...user.roles],
    state,
    disabled: user.disabled,
    lockedUntil: locked ? user.lockoutUntil! : null,
    failedAttempts: user.failedAttempts,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

/** The account actions done as `principal`: the store's digest and the events both name them. */
export function webAccountAdmin(ctx: WebContext, principal: Principal): AccountAdmin {
  return {
    users: ctx.users.actingAs({ user: principal.userId, role: roleField(principal.roles) }),
    record: async (events) => {
      await ctx.audit.append(auditAs(ctx, principal, events));
    },
    passwordParams: ctx.passwordParams,
  };
}

const ROLES_FIELD = z.array(z.string());

/** `POST /api/users` and the page's add form, once read. */
export const NEW_USER = z
  .object({
    id: z.string(),
    roles: ROLES_FIELD,
    kind: z.enum(['person', 'service']).default('person'),
    password: z.string().optional(),
    displayName: z.string().max(200).optional(),
  })
  .strict();

export type NewUserInput = z.infer<typeof NEW_USER>;

/** `PATCH /api/users/:id` and the page's per-user forms, once read. */
export const USER_CHANGE = z
  .object({
    roles: ROLES_FIELD.optional(),
    disabled: z.boolean().optional(),
    password: z.string().optional(),
    currentPassword: z.string().optional(),
    unlock: z.literal(true).optional(),
    /** A service account's new token (its "password"): `pds-trace users passwd` on a service account. */
    replaceToken: z.literal(true).optional(),
  })
  .strict();

export type UserChange = z.infer<typeof USER_CHANGE>;

/** What a body failed to be, as one sentence naming the fields. */
export function schemaProblem(error: z.ZodError): UserAdminProblem {
  const fields = error.issues.map((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || 'body'));
  return new UserAdminProblem(400, 'bad_request', `Check these fields: ${[...new Set(fields)].join(', ')}.`);
}

function rolesOf(roles: readonly string[]): Role[] {
  if (roles.length === 0) throw new UserAdminProblem(400, 'invalid_roles', 'Choose at least one role', 'roles');
  const unknown = roles.filter((role) => !isRole(role));
  if (unknown.length > 0) throw new UserAdminProblem(400, 'invalid_roles', `Not a role of pds-trace: ${unknown.join(', ')}`, 'roles');
  return roles as Role[];
}

/** Adds a person (with a password) or a service account (given a token, returned once). */
export async function addUser(ctx: WebContext, principal: Principal, input: NewUserInput): Promise<{ user: UserRecord; token?: string }> {
  // The store checks these too, but only after the password is hashed: refused first, at no cost.
  if (!USER_ID_PATTERN.test(input.id)) throw storeProblem('invalid_id');
  const roles = rolesOf(input.roles);
  if (input.kind === 'service' && input.password !== undefined) throw new UserAdminProblem(400, 'wrong_kind', 'A service account has no password: it is given a token', 'password');
  if (input.kind === 'person' && !input.password) throw new UserAdminProblem(400, 'weak_password', 'Enter a password for the new user', 'password');
  return addAccount(webAccountAdmin(ctx, principal), { id: input.id, displayName: input.displayName || undefined, roles, kind: input.kind, password: input.password });
}

/**
 * Checks the current password of a person changing their own, as a sign-in: a wrong one counts
 * towards the lockout and is recorded as a failed sign-in, so an unattended session cannot be used
 * to try guesses freely.
 */
async function proveCurrentPassword(ctx: WebContext, principal: Principal, currentPassword: string | undefined): Promise<void> {
  if (!currentPassword) throw new UserAdminProblem(400, 'current_password_required', 'Enter your current password', 'currentPassword');
  try {
    await signInWithPassword({ users: ctx.users, audit: ctx.audit, origin: ctx.origin, passwordParams: ctx.passwordParams, clock: () => new Date(ctx.clock()) }, principal.userId, currentPassword);
  } catch (err) {
    if (!(err instanceof AuthenticationError)) throw err;
    const locked = err.reason === 'locked' ? ': the account is now locked after too many failed attempts' : '';
    throw new UserAdminProblem(403, 'current_password_wrong', `Your current password is not right${locked}`, 'currentPassword');
  }
}

/** Records a refusal as the access hook records one, then throws it. */
async function refuse(ctx: WebContext, principal: Principal, route: string, id: string, problem: UserAdminProblem): Promise<never> {
  const target = USER_ID_PATTERN.test(id) ? ` target=${id}` : '';
  await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'access_denied', outcome: 'refused', detail: `web=${route}${target}` }]));
  throw problem;
}

export interface ChangeOutcome {
  user: UserRecord;
  /** A service account's new token, when one was asked for: shown once. */
  token?: string;
  lockoutLifted: boolean;
}

const ONLY_PASSWORD = new Set(['password', 'currentPassword']);

/**
 * Refuses what can be refused before anything is changed — the password policy, the roles' own
 * rules, the kind of account, the current password — so that a request is seldom half done. What
 * only the store can decide against the other accounts (the last admin) may still refuse a later
 * change after an earlier one stood.
 */
async function checkChange(ctx: WebContext, principal: Principal, user: UserRecord, change: UserChange): Promise<Role[] | undefined> {
  if (change.password !== undefined) {
    if (user.kind !== 'person') throw storeProblem('wrong_kind', user.id);
    checkPasswordPolicy(change.password);
  }
  if (change.replaceToken && user.kind !== 'service') throw new UserAdminProblem(400, 'wrong_kind', 'Only a service account has a token; a person has a password');
  const roles = change.roles === undefined ? undefined : rolesOf(change.roles);
  if (roles) checkRoles(user.id, user.kind, roles);
  if (change.password !== undefined && principal.userId === user.id) await proveCurrentPassword(ctx, principal, change.currentPassword);
  return roles;
}

/**
 * Makes the changes asked for, in this order: password (or a new token), roles, unlock, disabled;
 * each through the CLI's action and audited as the CLI audits it. Without users.manage: a person's
 * own password only; any other account is answered as if it did not exist, so user ids cannot be
 * probed.
 */
export async function changeUser(ctx: WebContext, principal: Principal, id: string, change: UserChange, route: string): Promise<ChangeOutcome> {
  if (!hasPermission(principal, 'users.manage')) {
    if (principal.userId !== id) await refuse(ctx, principal, route, id, new UserAdminProblem(404, 'not_found', 'There is no user with that id'));
    const asked = Object.keys(change);
    if (!isOwnPassword(principal, id) || asked.length === 0 || !asked.every((field) => ONLY_PASSWORD.has(field))) {
      await refuse(ctx, principal, route, id, new UserAdminProblem(403, 'forbidden', 'You may change only your own password.'));
    }
  }
  const found = await ctx.users.get(id);
  if (!found) throw storeProblem('not_found', id);
  const roles = await checkChange(ctx, principal, found, change);
  const admin = webAccountAdmin(ctx, principal);
  let token: string | undefined;
  let lockoutLifted = false;
  if (change.password !== undefined) await setPassword(admin, id, change.password);
  if (change.replaceToken) token = await replaceToken(admin, id);
  if (roles) await setAccountRoles(admin, id, roles);
  if (change.unlock) ({ lockoutLifted } = await unlockAccount(admin, id));
  if (change.disabled === true) await disableAccount(admin, id);
  if (change.disabled === false) lockoutLifted = (await enableAccount(admin, id)).lockoutLifted || lockoutLifted;
  const user = await ctx.users.get(id);
  if (!user) throw storeProblem('not_found', id);
  return { user, token, lockoutLifted };
}
