import { Command } from 'commander';
import { registerAuditCommand } from '../../src/cli/audit-command.js';
import { registerUsersCommand } from '../../src/cli/users-command.js';
import type { CliDeps } from '../../src/cli/sign-in-session.js';
import { loadConfig } from '../../src/config.js';
import { FAST_SCRYPT } from './fixtures.js';

export interface CliRun {
  stdout: string;
  stderr: string;
  /** What the action threw (a CliError for refusals), or undefined. */
  error: unknown;
}

/**
 * Runs `pds-trace <args>` with the users and audit commands registered, against `env` (which names
 * the data folder), capturing output. `answers` are what the no-echo prompt returns, in order;
 * without them there is no terminal.
 */
export async function runCli(args: string[], env: Record<string, string | undefined>, answers?: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const queue = answers ? [...answers] : undefined;
  const deps: CliDeps = {
    io: {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      env,
      promptSecret: queue ? async () => queue.shift() ?? '' : undefined,
    },
    config: () => loadConfig(env),
    passwordParams: FAST_SCRYPT,
  };
  const program = new Command().exitOverride().configureOutput({ writeOut: (t) => (stdout += t), writeErr: (t) => (stderr += t) });
  registerUsersCommand(program, deps);
  registerAuditCommand(program, deps);
  let error: unknown;
  try {
    await program.parseAsync(['node', 'pds-trace', ...args]);
  } catch (err) {
    error = err;
  }
  return { stdout, stderr, error };
}

/** Every leaf command registered by the users and audit modules, as `users add`, `audit verify`. */
export function registeredCommandNames(): string[] {
  const program = new Command();
  const noDeps = { io: { stdout: { write: () => 0 }, stderr: { write: () => 0 }, env: {} }, config: () => loadConfig({}) } satisfies CliDeps;
  registerUsersCommand(program, noDeps);
  registerAuditCommand(program, noDeps);
  const names: string[] = [];
  const walk = (command: Command, prefix: string[]) => {
    for (const sub of command.commands) {
      const path = [...prefix, sub.name()];
      if (sub.commands.length === 0) names.push(path.join(' '));
      else walk(sub, path);
    }
  };
  walk(program, []);
  return names;
}
