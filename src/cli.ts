#!/usr/bin/env node
import { type Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { CliError, EXIT } from './cli/errors.js';
import { dropOutputOnceReaderGone } from './cli/closed-pipe.js';
import { describeUnexpected } from './cli/describe-error.js';
import { commandWord } from './cli/command-modules.js';
import { buildProgram } from './cli/program.js';

dropOutputOnceReaderGone(process.stdout);
dropOutputOnceReaderGone(process.stderr);
// The last net: an error thrown from an event handler, outside any command's promise, still
// reaches the user as one line with the failure exit code, never a stack trace.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err: unknown) => {
    fail(err);
    process.exit();
  });
}

const program = await buildProgram(commandWord(process.argv.slice(2)));
throwUsageErrors(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  fail(err);
}

/**
 * commander prints a usage mistake (unknown command or option, missing argument, a choice not
 * offered, no command at all) with the help, then exits 1, the code README gives to failures: it
 * throws instead, on every command and subcommand, so those end with the usage code (2).
 */
function throwUsageErrors(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) throwUsageErrors(sub);
}

function fail(err: unknown): void {
  if (err instanceof CommanderError) {
    // Already printed by commander; --help and --version end with 0.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = EXIT.config;
  } else if (err instanceof CliError) {
    process.stderr.write(`pds-trace: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`pds-trace: ${describeUnexpected(err, debugLogging())}\n`);
    process.exitCode = EXIT.failure;
  }
}

/** LOG_LEVEL=debug shows an unexpected error's stack, for whoever reports it. */
function debugLogging(): boolean {
  try {
    return loadConfig().logLevel === 'debug';
  } catch {
    return false;
  }
}
