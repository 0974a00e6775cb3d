import os from 'node:os';
import type { Command } from 'commander';
import { openAuditStore, type AuditStore } from '../audit/store.js';
import { roleField } from '../audit/event.js';
import type { Principal } from '../auth/authorise.js';
import { cliAction, processCliIo, showMisuseWarning, signInOption, toCliError, withCliSession, type SessionEvent } from './sign-in-session.js';
import { UserStore } from '../auth/users.js';
import { loadConfig, type Config } from '../config.js';
import { batchCliError } from './batch-errors.js';

/**
 * How every pds-trace command runs for someone (MSCA-IG-01/02/03): sign in, check the command's
 * rule in the permission matrix (src/auth/roles.ts), show the misuse warning and who is signed in,
 * and record what happens in the audit trail.
 *
 * One exception, so the quick start needs no set-up: with no SMSP_URL (the built-in simulator,
 * synthetic data only) and no users yet, a command runs as the OS user in *simulator mode*, said
 * loudly. As soon as an SMSP_URL is configured or the first user exists, every command signs in,
 * and the simulator runs only if PDS_TRACE_SIMULATOR=true asks for it (configuredProvider).
 */

export { MISUSE_WARNING } from './sign-in-session.js';

/** Roles of the simulator-mode user: everything a tracer and an operator may do, nothing more. */
const SIMULATOR_MODE_ROLES = ['tracer', 'operator'] as const;

export interface CommandSession {
  readonly principal: Principal;
  readonly config: Readonly<Config>;
  readonly audit: AuditStore;
  /** True in simulator mode (no sign-in). */
  readonly unauthenticated: boolean;
  record(events: readonly SessionEvent[]): Promise<void>;
  /** The roles as the audit trail writes them. */
  readonly role: string;
}

async function simulatorMode(config: Readonly<Config>): Promise<boolean> {
  if (config.smsp.url) return false;
  return (await UserStore.open(config.dataDir)).isEmpty();
}

export async function runCommand(command: string, asUser: string | undefined, fn: (session: CommandSession) => Promise<void>): Promise<void> {
  const config = loadConfig();
  if (await simulatorMode(config)) {
    // Signing in warns and names the user (sign-in-session.ts); simulator mode signs nobody in.
    showMisuseWarning(process.stderr);
    const principal: Principal = { userId: os.userInfo().username.toLowerCase(), roles: [...SIMULATOR_MODE_ROLES], kind: 'person' };
    process.stderr.write(
      `Simulator mode: no SMSP_URL and no users yet, so running as ${principal.userId} without sign-in. ` +
        'Add the first user (pds-trace users add <id> --role admin) before using a real SMSP.\n',
    );
    const audit = await openAuditStore(config);
    const role = roleField(principal.roles);
    try {
      await fn({
        principal,
        config,
        audit,
        unauthenticated: true,
        role,
        record: async (events) => {
          const time = new Date().toISOString();
          await audit.append(events.map((e) => ({ ...e, time, user: principal.userId, role, origin: config.smsp.auditIdentity.uri })));
        },
      });
    } finally {
      await audit.close();
    }
    return;
  }
  await withCliSession({ io: processCliIo(), config: () => config }, command, asUser, async (session) => {
    await fn({ ...session, unauthenticated: false, role: roleField(session.principal.roles) });
  });
}

/** A guard for commands registered elsewhere (the simulator's): `--as`, sign-in and rule check. */
export function commandGuard(name: string): (flags: Record<string, unknown>, body: () => Promise<void>) => Promise<void> {
  return async (flags, body) => {
    try {
      await runCommand(name, flags.as as string | undefined, () => body());
    } catch (err) {
      throw toCliError(err);
    }
  };
}

/** Adds `--as` and runs the action signed in, with auth and audit failures as one-line errors. */
export function signedInCommand<A extends unknown[]>(
  cmd: Command,
  name: string,
  action: (session: CommandSession, ...args: A) => Promise<void>,
): Command {
  return cmd.addOption(signInOption()).action(
    cliAction(async (...args: unknown[]) => {
      // commander passes the positional arguments, then the options object, then the command.
      const flags = args.at(-2) as { as?: string; user?: string };
      await runCommand(name, flags.as ?? flags.user, (session) => action(session, ...(args as A))).catch((err: unknown) => {
        throw batchCliError(err);
      });
    }),
  );
}
