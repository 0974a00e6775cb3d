import { InvalidArgumentError, type Command } from 'commander';
import { roleField } from '../audit/event.js';
import { openAuditStore } from '../audit/store.js';
import { loadConfig } from '../config.js';
import { acceptUserStore } from '../auth/accept-store.js';
import { CredentialsError, personCredentials } from '../auth/authenticate.js';
import { requireAccess, type Principal } from '../auth/authorise.js';
import { cliAction, processCliIo, showMisuseWarning, showSignedIn, signInOption, withCliSession, type CliDeps, type CliIo, type CliSession } from './sign-in-session.js';
import { formatPermissionMatrix } from '../auth/matrix-text.js';
import { DEFAULT_SCRYPT_PARAMS, checkPasswordPolicy, hashPassword } from '../auth/password.js';
import { isRole, ROLE_NAMES, type Role } from '../auth/roles.js';
import { accountState, addAccount, disableAccount, enableAccount, isOwnPassword, replaceToken, setAccountRoles, setPassword, type AccountAdmin } from '../auth/account-admin.js';
import { openRecordedUserStore } from '../auth/recorded-user-store.js';
import { UserStore, type UserRecord } from '../auth/users.js';

/**
 * `pds-trace users add | passwd | disable | enable | set-roles | list | accept-store | roles`.
 *
 * First use (bootstrap): on an empty user store `users add` needs no sign-in — there is nobody yet
 * to sign in as — and the store only accepts a person with the `admin` role as that first user.
 * Whoever can run pds-trace against the data folder at that moment is trusted to create them (the
 * folder is owner-only); the add is audited like any other. From then on every subcommand signs in
 * and needs `users.manage`, except `passwd` for one's own password and `roles` (any signed-in user,
 * or anyone while the store is empty: it describes roles, nobody's data).
 *
 * New passwords come from `PDS_TRACE_NEW_PASSWORD` (scripts) or are asked for twice at the
 * terminal, never echoed. A service account gets a token instead, printed once on standard output.
 */

export const NEW_PASSWORD_ENV = 'PDS_TRACE_NEW_PASSWORD';

function defaultDeps(): CliDeps {
  const io = processCliIo();
  return { io, config: () => loadConfig(io.env) };
}

function roleArg(value: string, previous: Role[] = []): Role[] {
  if (!isRole(value)) throw new InvalidArgumentError(`choose from ${ROLE_NAMES.join(', ')}`);
  return [...previous, value];
}

async function newPassword(io: CliIo, userId: string): Promise<string> {
  const fromEnv = io.env[NEW_PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!io.promptSecret) throw new CredentialsError(`no new password for ${userId}: run in a terminal to be asked, or set ${NEW_PASSWORD_ENV}`);
  const first = await io.promptSecret(`New password for ${userId}: `);
  checkPasswordPolicy(first);
  const again = await io.promptSecret('Repeat the new password: ');
  if (again !== first) throw new CredentialsError('the two passwords differ; nothing changed');
  return first;
}

function describeUser(user: UserRecord, now: Date): string {
  const state = accountState(user, now) === 'locked' ? `locked until ${user.lockoutUntil}` : accountState(user, now);
  return `${user.id.padEnd(20)} ${user.kind.padEnd(7)} ${roleField(user.roles).padEnd(24)} ${state.padEnd(12)} ${user.displayName}`;
}

interface AddFlags {
  role: Role[];
  service?: boolean;
  name?: string;
  as?: string;
}

/** `users add` on an empty store: the first admin, without sign-in (see the comment at the top). */
async function bootstrapFirstAdmin(deps: CliDeps, id: string, flags: AddFlags): Promise<void> {
  const config = deps.config();
  showMisuseWarning(deps.io.stderr);
  if (flags.service) throw new CredentialsError('the first user must be a person with the admin role, not a service account');
  const passwordHash = await hashPassword(await newPassword(deps.io, id), deps.passwordParams ?? DEFAULT_SCRYPT_PARAMS);
  const audit = await openAuditStore(config);
  try {
    // Recorded: the first digest of the store goes into the trail with this add.
    const users = await openRecordedUserStore(config.dataDir, { sink: audit, trail: audit, origin: config.smsp.auditIdentity.uri });
    const user = await users.add({ id, displayName: flags.name, roles: flags.role, kind: 'person', passwordHash }, { firstOnly: true });
    await audit.append([
      {
        time: new Date().toISOString(),
        kind: 'user_changed',
        user: user.id,
        role: roleField(user.roles),
        origin: config.smsp.auditIdentity.uri,
        outcome: 'added',
        detail: `action=add target=${user.id} kind=person roles=${roleField(user.roles)} bootstrap=first-user`,
      },
    ]);
    deps.io.stdout.write(`Added ${user.id} (${roleField(user.roles)}), the first user. Sign in with --as ${user.id}.\n`);
  } finally {
    await audit.close();
  }
}

/**
 * `users accept-store`. While users.json is as recorded there is nothing to accept, and the command
 * signs in like any other (failures counted towards the lockout), so it is no way round the
 * lockout; only a store that differs takes the sign-in against the recorded accounts (accept-store.ts).
 */
async function acceptStore(deps: CliDeps, asUser: string | undefined): Promise<void> {
  const config = deps.config();
  const origin = config.smsp.auditIdentity.uri;
  const nothingToAccept = (digest: string) => deps.io.stdout.write(`users.json is the state last recorded in the audit trail (sha256 ${digest}); nothing to accept.\n`);
  const audit = await openAuditStore(config);
  try {
    const users = await openRecordedUserStore(config.dataDir, { sink: audit, trail: audit, origin });
    const state = await users.recordedState();
    if (state.asRecorded) {
      await withCliSession(deps, 'users accept-store', asUser, async () => nothingToAccept(state.digest));
      return;
    }
    // Signs in against the recorded accounts, not through the session: warned and named here.
    showMisuseWarning(deps.io.stderr);
    const credentials = await personCredentials({ userId: asUser, env: deps.io.env, promptSecret: deps.io.promptSecret });
    const outcome = await acceptUserStore({ users, audit, origin, passwordParams: deps.passwordParams }, credentials);
    showSignedIn(deps.io.stderr, outcome.principal, origin);
    if (!outcome.accepted) return void nothingToAccept(outcome.digest);
    if (outcome.basis === 'first_use') deps.io.stdout.write('No state of users.json was recorded in the audit trail before: accepting it as found.\n');
    else deps.io.stdout.write(`Changes since the recorded state:\n${outcome.differences.map((d) => `  ${d}\n`).join('') || '  (none in the accounts)\n'}`);
    deps.io.stdout.write(`Accepted users.json (sha256 ${outcome.digest}); sign-in is open again.\n`);
  } finally {
    await audit.close();
  }
}

/** The account actions (account-admin.ts), done as the signed-in administrator. */
function accountAdmin(deps: CliDeps, session: CliSession): AccountAdmin {
  return { users: session.users, record: session.record, passwordParams: deps.passwordParams };
}

async function addUser(deps: CliDeps, session: CliSession, id: string, flags: AddFlags): Promise<void> {
  const kind = flags.service ? 'service' : 'person';
  const password = flags.service ? undefined : await newPassword(deps.io, id);
  const { user, token } = await addAccount(accountAdmin(deps, session), { id, displayName: flags.name, roles: flags.role, kind, password });
  deps.io.stdout.write(`Added ${user.id} (${kind}, ${roleField(user.roles)}).\n`);
  if (token) printToken(deps.io, user.id, token);
}

function printToken(io: CliIo, userId: string, token: string): void {
  io.stdout.write(
    `Service token for ${userId} (shown once; give it to the service as PDS_TRACE_SERVICE_TOKEN with PDS_TRACE_SERVICE_ACCOUNT=${userId}):\n${token}\n`,
  );
}

/** `passwd` is allowed for one's own password, else needs the `users passwd` rule. */
function ownPasswordOr(target: string): (principal: Principal) => void {
  return (principal) => {
    if (isOwnPassword(principal, target)) return;
    requireAccess(principal, 'cli', 'users passwd');
  };
}

export function registerUsersCommand(program: Command, deps: CliDeps = defaultDeps()): void {
  const { io } = deps;
  const users = program.command('users').description('local users, service accounts and roles');

  users
    .command('add')
    .description('add a person (asked for a password) or, with --service, a service account (given a token)')
    .argument('<id>', 'user id: lower-case letters, digits, ".", "_", "-"')
    .requiredOption('--role <role>', `a role (repeat for several): ${ROLE_NAMES.join(', ')}`, roleArg)
    .option('--service', 'a service account for unattended work: no password, cannot sign in interactively')
    .option('--name <display name>', 'the name shown in lists')
    .addOption(signInOption())
    .action(
      cliAction(async (id: string, flags: AddFlags) => {
        const store = await UserStore.open(deps.config().dataDir);
        if (await store.isEmpty()) return bootstrapFirstAdmin(deps, id, flags);
        await withCliSession(deps, 'users add', flags.as, (session) => addUser(deps, session, id, flags));
      }),
    );

  users
    .command('passwd')
    .description("set a person's password (your own, or anyone's with users.manage); for a service account, issue a new token")
    .argument('<id>', 'user id')
    .addOption(signInOption())
    .action(
      cliAction(async (id: string, flags: { as?: string }) => {
        await withCliSession(
          deps,
          'users passwd',
          flags.as,
          async (session) => {
            const target = await session.users.get(id);
            if (target?.kind === 'service') return printToken(io, id, await replaceToken(accountAdmin(deps, session), id));
            await setPassword(accountAdmin(deps, session), id, await newPassword(io, id));
            io.stdout.write(`Password set for ${id}.\n`);
          },
          ownPasswordOr(id),
        );
      }),
    );

  users
    .command('disable')
    .description('refuse all sign-ins by a user or service account (kept for the audit trail)')
    .argument('<id>', 'user id')
    .addOption(signInOption())
    .action(
      cliAction(async (id: string, flags: { as?: string }) => {
        await withCliSession(deps, 'users disable', flags.as, async (session) => {
          await disableAccount(accountAdmin(deps, session), id);
          io.stdout.write(`${id} disabled.\n`);
        });
      }),
    );

  users
    .command('enable')
    .description('let a disabled or locked-out user sign in again (lifts the lockout after failed sign-ins)')
    .argument('<id>', 'user id')
    .addOption(signInOption())
    .action(
      cliAction(async (id: string, flags: { as?: string }) => {
        await withCliSession(deps, 'users enable', flags.as, async (session) => {
          const { lockoutLifted } = await enableAccount(accountAdmin(deps, session), id);
          io.stdout.write(lockoutLifted ? `${id} enabled; the lockout after failed sign-ins is lifted.\n` : `${id} enabled.\n`);
        });
      }),
    );

  users
    .command('set-roles')
    .description("replace a user's roles")
    .argument('<id>', 'user id')
    .requiredOption('--role <role>', `a role (repeat for several): ${ROLE_NAMES.join(', ')}`, roleArg)
    .addOption(signInOption())
    .action(
      cliAction(async (id: string, flags: { role: Role[]; as?: string }) => {
        await withCliSession(deps, 'users set-roles', flags.as, async (session) => {
          const after = await setAccountRoles(accountAdmin(deps, session), id, flags.role);
          io.stdout.write(`${id}: ${roleField(after.roles)}.\n`);
        });
      }),
    );

  users
    .command('list')
    .description('list users and service accounts with their roles and state')
    .addOption(signInOption())
    .action(
      cliAction(async (flags: { as?: string }) => {
        await withCliSession(deps, 'users list', flags.as, async (session) => {
          const now = new Date();
          for (const user of await session.users.list()) io.stdout.write(`${describeUser(user, now)}\n`);
        });
      }),
    );

  users
    .command('accept-store')
    .description('after users.json was changed outside pds-trace: show what differs from the state recorded in the audit trail, and accept it')
    .addOption(signInOption())
    .action(cliAction(async (flags: { as?: string }) => acceptStore(deps, flags.as)));

  users
    .command('roles')
    .description('print the roles, their permissions, and what every command, route and page requires')
    .addOption(signInOption())
    .action(
      cliAction(async (flags: { as?: string }) => {
        // The matrix describes roles and holds nothing about anyone: before the first user exists
        // (when it is what one reads to choose roles) it needs no sign-in; afterwards, as the matrix says.
        if (await (await UserStore.open(deps.config().dataDir)).isEmpty()) {
          showMisuseWarning(io.stderr);
          io.stdout.write(formatPermissionMatrix());
          return;
        }
        await withCliSession(deps, 'users roles', flags.as, async () => {
          io.stdout.write(formatPermissionMatrix());
        });
      }),
    );
}
