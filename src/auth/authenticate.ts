import type { NewAuditEvent } from '../audit/event.js';
import { roleField } from '../audit/event.js';
import type { AuditStore } from '../audit/store.js';
import { readSecretFile } from '../config.js';
import type { Principal } from './authorise.js';
import { DEFAULT_SCRYPT_PARAMS, verifyPassword, type ScryptParams } from './password.js';
import { verifyServiceToken } from './service-token.js';
import { decidePasswordAttempt, LOCKOUT_THRESHOLD, refusalWithoutPassword } from './sign-in-decision.js';
import { UserStoreNotAcceptedError } from './store-ledger.js';
import { USER_ID_PATTERN, type UserRecord, type UserStore } from './users.js';

/**
 * Signing in: a user id and a password for people, a user id and a token for service accounts,
 * each turned into a {@link Principal} or refused — and every attempt, either way, recorded in the
 * audit trail before the answer is given (MSCA-AUD: logins and failures).
 *
 * Lockout: after 5 failed passwords in a row an account is refused for 15 minutes, whatever
 * password is offered, and the refusals are audited too; success or the end of the lockout starts
 * the count again; an admin setting a new password, or enabling the account (`users enable`),
 * lifts it. Each attempt's locked check, password
 * check and bookkeeping are one decision under the user store's lock (sign-in-decision.ts), so
 * parallel attempts — from any number of processes — end as some serial order of them would.
 * Service tokens are not locked out: a 256-bit token cannot be guessed, and a lockout would only
 * let anyone stop the watched folders by failing five times.
 *
 * A users.json that is not the state last recorded in the audit trail refuses every sign-in
 * (`store_not_accepted`) until an admin accepts it (store-ledger.ts, accept-store.ts).
 *
 * How the CLI finds credentials ({@link signInCli}), in this order:
 * 1. `PDS_TRACE_SERVICE_ACCOUNT` (+ `PDS_TRACE_SERVICE_TOKEN`, or better the file
 *    `PDS_TRACE_SERVICE_TOKEN_FILE` names): unattended runs (systemd units, cron, watched folders,
 *    Compose services). The token was printed once by `users add --service` and is kept in a
 *    credential file (a Compose secret, a systemd credential), never in the repository. Naming a different
 *    `--as` user at the same time is refused as ambiguous.
 * 2. `--as <id>` (or `PDS_TRACE_USER`) with a password from `PDS_TRACE_PASSWORD` — for scripts;
 *    other processes of the same OS user can read a process's environment, so prefer —
 *    3. the interactive prompt on the terminal, which never echoes.
 * A service account never gets the prompt or a password: it cannot sign in interactively.
 */

export { LOCKOUT_MS, LOCKOUT_THRESHOLD } from './sign-in-decision.js';

/** Where the CLI reads credentials; see the comment above. */
export const CREDENTIAL_ENV = {
  user: 'PDS_TRACE_USER',
  password: 'PDS_TRACE_PASSWORD',
  serviceAccount: 'PDS_TRACE_SERVICE_ACCOUNT',
  serviceToken: 'PDS_TRACE_SERVICE_TOKEN',
  /** A file holding the token (a Compose secret, a systemd credential), kept out of the environment. */
  serviceTokenFile: 'PDS_TRACE_SERVICE_TOKEN_FILE',
} as const;

export type SignInRefusal =
  | 'unknown_user'
  | 'bad_password'
  | 'locked'
  | 'disabled'
  | 'service_account'
  | 'not_a_service_account'
  | 'bad_token'
  /** users.json differs from the state last recorded in the audit trail (store-ledger.ts). */
  | 'store_not_accepted';

/**
 * Sign-in refused. The message does not say whether the user exists or which part was wrong
 * (`reason` does, for the audit trail); only a lockout is named, so its owner knows to wait.
 */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  constructor(
    readonly userId: string,
    readonly reason: SignInRefusal,
    readonly lockedUntil?: string,
    /** For `store_not_accepted`: what differs and what to do. */
    detail?: string,
  ) {
    super(
      reason === 'locked'
        ? `sign-in refused: account ${userId} is locked after ${LOCKOUT_THRESHOLD} failed attempts until ${lockedUntil}`
        : reason === 'store_not_accepted'
          ? `sign-in refused for everyone: ${detail}`
          : `sign-in refused for ${userId}: unknown user, wrong credentials, or a disabled account`,
    );
  }
}

/** No credentials to try (nothing to audit: no attempt was made). */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

export interface AuthenticatorDeps {
  users: UserStore;
  /** Where attempts are recorded; the store, or a buffer flushed to it later. */
  audit: Pick<AuditStore, 'append'>;
  /** Originating system id for the events (the ASID / ODS identity). */
  origin?: string;
  clock?: () => Date;
  /** Cost of the stand-in hash checked for unknown users, so they take as long as known ones. */
  passwordParams?: ScryptParams;
}

export type Method = 'password' | 'service_token';

function auditedUser(userId: string): string {
  return USER_ID_PATTERN.test(userId) ? userId : '(invalid user id)';
}

function event(deps: AuthenticatorDeps, fields: Omit<NewAuditEvent, 'time' | 'origin'>): NewAuditEvent {
  return { ...fields, time: (deps.clock ?? (() => new Date()))().toISOString(), origin: deps.origin };
}

/** Records a refused attempt, then throws its AuthenticationError. */
export async function refuse(
  deps: AuthenticatorDeps,
  userId: string,
  user: UserRecord | undefined,
  reason: SignInRefusal,
  method: Method,
  extra: NewAuditEvent[] = [],
  why?: string,
): Promise<never> {
  const failed = event(deps, {
    kind: 'sign_in_failed',
    user: auditedUser(userId),
    role: user ? roleField(user.roles) : '',
    outcome: reason,
    detail: `method=${method}`,
  });
  await deps.audit.append([failed, ...extra]);
  throw new AuthenticationError(userId, reason, user?.lockoutUntil, why);
}

/**
 * Runs a sign-in decision under the store's lock (UserStore.decideForAccount); a store that is not
 * the state last recorded in the audit trail refuses it, and that refusal is audited like any other.
 */
async function decideUnderLock<T>(deps: AuthenticatorDeps, userId: string, user: UserRecord, method: Method, decide: (current: UserRecord | undefined) => T): Promise<T> {
  try {
    return await deps.users.decideForAccount(userId, decide);
  } catch (err) {
    if (err instanceof UserStoreNotAcceptedError) return refuse(deps, userId, user, 'store_not_accepted', method, [], err.message);
    throw err;
  }
}

function principalOf(user: UserRecord): Principal {
  return { userId: user.id, roles: [...user.roles], kind: user.kind };
}

/** Records a sign-in and returns the principal. */
export async function admit(deps: AuthenticatorDeps, user: UserRecord, method: Method): Promise<Principal> {
  await deps.audit.append([event(deps, { kind: 'sign_in', user: user.id, role: roleField(user.roles), outcome: 'success', detail: `method=${method}` })]);
  return principalOf(user);
}

/** A stand-in for unknown users: same cost as a real hash, never matches (its key is not scrypt's output). */
export function standInHash(params: ScryptParams): string {
  const zeros = (n: number) => Buffer.alloc(n).toString('base64');
  return `scrypt$N=${params.cost},r=${params.blockSize},p=${params.parallelism}$${zeros(16)}$${zeros(32)}`;
}

export async function signInWithPassword(deps: AuthenticatorDeps, userId: string, password: string): Promise<Principal> {
  const now = () => (deps.clock ?? (() => new Date()))();
  const user = await deps.users.get(userId);
  if (!user) {
    await verifyPassword(password, standInHash(deps.passwordParams ?? DEFAULT_SCRYPT_PARAMS));
    return refuse(deps, userId, undefined, 'unknown_user', 'password');
  }
  // Refused whatever the password (locked, disabled, a service account): no scrypt spent on it.
  const early = refusalWithoutPassword(user, now());
  if (early) return refuse(deps, userId, user, early, 'password');

  // scrypt runs outside the store lock; the decision under it uses the result only if the record
  // still holds the hash that was checked (sign-in-decision.ts).
  let checkedHash = user.passwordHash!;
  for (;;) {
    const matches = await verifyPassword(password, checkedHash);
    const { decision, record } = await decideUnderLock(deps, userId, user, 'password', (current) => {
      if (!current) return { decision: { kind: 'refuse', reason: 'unknown_user', lockedNow: false } as const, record: undefined };
      return { decision: decidePasswordAttempt(current, checkedHash, matches, now()), record: { ...current } };
    });
    if (decision.kind === 'rehash') {
      checkedHash = decision.passwordHash;
      continue;
    }
    if (decision.kind === 'admit') return admit(deps, record!, 'password');
    const lockout =
      decision.lockedNow && record
        ? [event(deps, { kind: 'lockout', user: userId, role: roleField(record.roles), outcome: 'locked', detail: `attempts=${record.failedAttempts} until=${record.lockoutUntil}` })]
        : [];
    return refuse(deps, userId, record, decision.reason, 'password', lockout);
  }
}

export async function signInWithServiceToken(deps: AuthenticatorDeps, userId: string, token: string): Promise<Principal> {
  const user = await deps.users.get(userId);
  if (!user) return refuse(deps, userId, undefined, 'unknown_user', 'service_token');
  // Decided again under the lock, on the current record, for the check against the recorded
  // digest (nothing is written).
  const { refusal, record } = await decideUnderLock(deps, userId, user, 'service_token', (current) => ({
    refusal: serviceTokenRefusal(current, token),
    record: current && { ...current },
  }));
  if (refusal || !record) return refuse(deps, userId, record ?? user, refusal ?? 'unknown_user', 'service_token');
  return admit(deps, record, 'service_token');
}

function serviceTokenRefusal(user: UserRecord | undefined, token: string): SignInRefusal | undefined {
  if (!user) return 'unknown_user';
  if (user.kind !== 'service' || user.tokenHash === undefined) return 'not_a_service_account';
  if (user.disabled) return 'disabled';
  if (!verifyServiceToken(token, user.tokenHash)) return 'bad_token';
  return undefined;
}

export interface CliCredentialSources {
  /** The `--as` option. */
  userId?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a secret without echo; undefined when there is no terminal to ask at. */
  promptSecret?: (question: string) => Promise<string>;
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** Signs the CLI's caller in from the sources described at the top of this file. */
export async function signInCli(deps: AuthenticatorDeps, sources: CliCredentialSources): Promise<Principal> {
  const { env } = sources;
  const service = nonEmpty(env[CREDENTIAL_ENV.serviceAccount]);
  if (service !== undefined) {
    if (sources.userId !== undefined && sources.userId !== service) {
      throw new CredentialsError(`both ${CREDENTIAL_ENV.serviceAccount} and --as name an account: give one`);
    }
    return signInWithServiceToken(deps, service, serviceToken(env));
  }
  const { userId, password } = await personCredentials(sources);
  return signInWithPassword(deps, userId, password);
}

/** The service account's token, from PDS_TRACE_SERVICE_TOKEN or the file PDS_TRACE_SERVICE_TOKEN_FILE names. */
function serviceToken(env: CliCredentialSources['env']): string {
  const token = nonEmpty(env[CREDENTIAL_ENV.serviceToken]);
  const file = nonEmpty(env[CREDENTIAL_ENV.serviceTokenFile]);
  if (token !== undefined && file !== undefined) throw new CredentialsError(`both ${CREDENTIAL_ENV.serviceToken} and ${CREDENTIAL_ENV.serviceTokenFile} are set: give the token one way`);
  if (file !== undefined) return readSecretFile(CREDENTIAL_ENV.serviceTokenFile, file);
  if (token === undefined) throw new CredentialsError(`${CREDENTIAL_ENV.serviceAccount} is set but ${CREDENTIAL_ENV.serviceToken} is not (nor ${CREDENTIAL_ENV.serviceTokenFile}, a file holding it)`);
  return token;
}

/** A person's user id and password, from `--as`/PDS_TRACE_USER and PDS_TRACE_PASSWORD or the prompt. */
export async function personCredentials(sources: CliCredentialSources): Promise<{ userId: string; password: string }> {
  const { env } = sources;
  const userId = sources.userId ?? nonEmpty(env[CREDENTIAL_ENV.user]);
  if (userId === undefined) throw new CredentialsError(`sign in: name a user with --as or ${CREDENTIAL_ENV.user} (or a service account with ${CREDENTIAL_ENV.serviceAccount})`);
  const password = nonEmpty(env[CREDENTIAL_ENV.password]) ?? (sources.promptSecret ? await sources.promptSecret(`Password for ${userId}: `) : undefined);
  if (password === undefined) throw new CredentialsError(`no password for ${userId}: run in a terminal to be asked, or set ${CREDENTIAL_ENV.password}`);
  return { userId, password };
}
