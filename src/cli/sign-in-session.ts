import { Option } from 'commander';
import { AuditEventError, roleField, type NewAuditEvent } from '../audit/event.js';
import { LockTimeoutError } from '../audit/file-lock.js';
import { AuditStoreCorruptError } from '../audit/file-store.js';
import { PgIdentifierError } from '../audit/pg-schema.js';
import { AuditDatabaseError, AuditDatabaseUnreachableError, AuditSchemaMissingError } from '../audit/pg-errors.js';
import { openAuditStore, type AuditStore } from '../audit/store.js';
import { CliError, EXIT } from './errors.js';
import type { Config } from '../config.js';
import { AuthenticationError, CredentialsError, signInCli } from '../auth/authenticate.js';
import { AccessDeniedError, requireAccess, type Principal } from '../auth/authorise.js';
import { PasswordPolicyError, type ScryptParams } from '../auth/password.js';
import { terminalSecretPrompt } from '../auth/prompt.js';
import { UnknownAccessRuleError } from '../auth/roles.js';
import { AcceptStoreError } from '../auth/accept-store.js';
import { openRecordedUserStore } from '../auth/recorded-user-store.js';
import { UserStoreNotAcceptedError } from '../auth/store-ledger.js';
import { UserStore, UserStoreError, UserStoreRefusedError } from '../auth/users.js';

/**
 * What a `pds-trace` command needs to act for someone: sign in (authenticate.ts), check the
 * command's rule in the permission table (roles.ts), record what it does in the audit trail, and
 * turn the typed refusals into one-line CLI errors. Every command runs through
 * {@link withCliSession}, so none can forget a step:
 *
 *   .addOption(signInOption())
 *   .action(cliAction(async (flags) => withCliSession(deps, 'resume', flags.as, async (session) => { … })))
 */

/** Where a command reads and writes; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Environment for configuration and credentials. */
  env: Readonly<Record<string, string | undefined>>;
  /** No-echo prompt; undefined when there is no terminal. */
  promptSecret?: (question: string) => Promise<string>;
}

export function processCliIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, promptSecret: terminalSecretPrompt() };
}

export interface CliDeps {
  io: CliIo;
  /** The configuration (from `io.env` by default). */
  config: () => Readonly<Config>;
  /** scrypt cost for new passwords and the unknown-user stand-in; tests lower it. */
  passwordParams?: ScryptParams;
}

export const MISUSE_WARNING = 'Computer Misuse Act 1990 - Unauthorised access to this system is an offence.';

/**
 * The warning every command shows before it touches the system (and before any password prompt),
 * on standard error so that standard output carries only the command's data (`audit search > file`).
 */
export function showMisuseWarning(stderr: CliIo['stderr']): void {
  stderr.write(`${MISUSE_WARNING}\n`);
}

/** Who the command runs as, and for which system (the audit identity sent to SMSP). */
export function showSignedIn(stderr: CliIo['stderr'], principal: Principal, origin: string): void {
  stderr.write(`Signed in as ${principal.userId} (${principal.roles.join(', ')}) for ${origin}.\n`);
}

/** The `--as <id>` option every signed-in command takes. */
export function signInOption(): Option {
  return new Option('--as <id>', 'sign in as this user (default: PDS_TRACE_USER; services: PDS_TRACE_SERVICE_ACCOUNT)');
}

/** Fields a command fills in; the session stamps time, user, role and origin. */
export type SessionEvent = Omit<NewAuditEvent, 'time' | 'user' | 'role' | 'origin'>;

/** A signed-in, authorised caller. */
export interface SignedInSession {
  readonly principal: Principal;
  readonly config: Readonly<Config>;
  readonly users: UserStore;
  /** Records events as done by the signed-in principal; durable when it resolves. */
  record(events: readonly SessionEvent[]): Promise<void>;
}

export interface CliSession extends SignedInSession {
  readonly audit: AuditStore;
}

/** Audit events held until the store can take them (only `audit migrate`, before the schema exists). */
export class PendingAudit {
  readonly events: NewAuditEvent[] = [];
  async append(events: readonly NewAuditEvent[]): Promise<never[]> {
    this.events.push(...events);
    return [];
  }
}

function stamp(principal: Principal, origin: string, events: readonly SessionEvent[]): NewAuditEvent[] {
  const time = new Date().toISOString();
  return events.map((e) => ({ ...e, time, user: principal.userId, role: roleField(principal.roles), origin }));
}

/** Check access here instead of by the command's rule (e.g. "or their own password"). */
export type Authorise = (principal: Principal) => void;

async function signIn(
  deps: CliDeps,
  config: Readonly<Config>,
  sink: Pick<AuditStore, 'append'>,
  command: string,
  asUser: string | undefined,
  authorise: Authorise | undefined,
  /** Where users.json's digests are recorded and read back (recorded-user-store.ts). */
  ledger: { sink: Pick<AuditStore, 'append'>; trail?: Pick<AuditStore, 'search'> },
): Promise<SignedInSession> {
  const origin = config.smsp.auditIdentity.uri;
  // Every command that signs in comes through here, so this is the one place that warns and says
  // who is signed in: before the password prompt, and before the permission check, so a refusal
  // names whom it refused.
  showMisuseWarning(deps.io.stderr);
  const users = await openRecordedUserStore(config.dataDir, { ...ledger, origin });
  const principal = await signInCli(
    { users, audit: sink, origin, passwordParams: deps.passwordParams },
    { userId: asUser, env: deps.io.env, promptSecret: deps.io.promptSecret },
  );
  showSignedIn(deps.io.stderr, principal, origin);
  try {
    if (authorise) authorise(principal);
    else requireAccess(principal, 'cli', command);
  } catch (err) {
    if (err instanceof AccessDeniedError) await sink.append(stamp(principal, origin, [{ kind: 'access_denied', outcome: 'refused', detail: `command=${command}` }]));
    throw err;
  }
  return {
    principal,
    config,
    users: users.actingAs({ user: principal.userId, role: roleField(principal.roles) }),
    record: async (events) => {
      await sink.append(stamp(principal, origin, events));
    },
  };
}

/** Signs in, checks `command`'s rule (recording a refusal), runs `fn`, and closes the audit store. */
export async function withCliSession<T>(
  deps: CliDeps,
  command: string,
  asUser: string | undefined,
  fn: (session: CliSession) => Promise<T>,
  authorise?: Authorise,
): Promise<T> {
  const config = deps.config();
  const audit = await openAuditStore(config);
  try {
    const session = await signIn(deps, config, audit, command, asUser, authorise, { sink: audit, trail: audit });
    return await fn({ ...session, audit });
  } finally {
    await audit.close();
  }
}

/**
 * The same with the audit events held in `buffer`, for the commands that run before the audit
 * store exists (`audit migrate`) or before it may be written (`audit verify` checks the trail as
 * found): they append `buffer.events` once the store is there, or found sound.
 *
 * `checkUserStore: false` signs in without comparing users.json with the digest last recorded in
 * the trail, the role rules still enforced. `audit verify` asks for it because users.json's check
 * reads the very trail verify examines, so a cut or deleted trail would otherwise lock out the
 * one command that can say what happened to it (verify shows integrity, never events); `audit
 * pin --accept`, because the digest is in the trail being moved away from.
 */
export async function withBufferedCliSession<T>(
  deps: CliDeps,
  command: string,
  asUser: string | undefined,
  buffer: PendingAudit,
  fn: (session: SignedInSession) => Promise<T>,
  { checkUserStore = true }: { checkUserStore?: boolean } = {},
): Promise<T> {
  const config = deps.config();
  if (config.auditDatabaseUrl || !checkUserStore) {
    // The PostgreSQL trail does not exist yet: users.json's changes wait in the buffer with the
    // other events, and there is no digest to check it against (after switching to a new trail an
    // admin accepts the user store once: `users accept-store`).
    return fn(await signIn(deps, config, buffer, command, asUser, undefined, { sink: buffer }));
  }
  // The file trail exists: users.json is checked against it and its changes recorded there at
  // once, so a failed sign-in's count is not lost with the buffer.
  const trail = await openAuditStore(config);
  try {
    return await fn(await signIn(deps, config, buffer, command, asUser, undefined, { sink: trail, trail }));
  } finally {
    await trail.close();
  }
}

/** Typed refusals and failures of auth and audit, as the one-line errors the CLI prints. */
export function toCliError(err: unknown): unknown {
  if (err instanceof CredentialsError || err instanceof PasswordPolicyError || err instanceof PgIdentifierError) return new CliError(err.message, EXIT.usage);
  if (err instanceof AuditSchemaMissingError || err instanceof AuditDatabaseUnreachableError) return new CliError(err.message, EXIT.config);
  // Refused sign-in or permission: their own exit code, so scripts can tell them apart.
  if (err instanceof AuthenticationError || err instanceof AccessDeniedError || err instanceof UserStoreRefusedError || err instanceof UserStoreNotAcceptedError || err instanceof AcceptStoreError) return new CliError(err.message, EXIT.denied);
  if (
    err instanceof UserStoreError ||
    err instanceof UnknownAccessRuleError ||
    err instanceof AuditDatabaseError ||
    err instanceof AuditStoreCorruptError ||
    err instanceof AuditEventError ||
    err instanceof LockTimeoutError
  ) {
    return new CliError(err.message, EXIT.failure);
  }
  return err;
}

/** Wraps a commander action so auth and audit errors reach the user as CliErrors. */
export function cliAction<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (err) {
      throw toCliError(err);
    }
  };
}
