import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';

/**
 * The commands and options `pds-trace` registers, read from the program itself (src/cli/program.ts),
 * so what a deployment file may run is what the program has, never a list kept in a test.
 */

export interface RegisteredCommand {
  /** `users add` for a subcommand. */
  name: string;
  /** Every long option the command takes (`--concurrency`, `--no-worker`), `--help` included. */
  options: ReadonlySet<string>;
}

function longOptions(command: Command): Set<string> {
  return new Set(['--help', ...command.options.flatMap((o) => (o.long ? [o.long] : []))]);
}

/**
 * Every leaf command (top-level commands, and the subcommands of those that have some) with its
 * options, and the program's own options (`--log-format`), which any command line may carry.
 */
export async function registeredCommands(): Promise<{ commands: RegisteredCommand[]; globalOptions: ReadonlySet<string> }> {
  const program = await buildProgram();
  const leaves = (command: Command, prefix: string[]): RegisteredCommand[] =>
    command.commands.flatMap((sub) => {
      const name = [...prefix, sub.name()];
      return sub.commands.length > 0 ? leaves(sub, name) : [{ name: name.join(' '), options: longOptions(sub) }];
    });
  return { commands: leaves(program, []), globalOptions: longOptions(program) };
}
