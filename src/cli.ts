#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from './config.js';
import { CliError, EXIT } from './cli/errors.js';
import { registerBatchCommands } from './cli/batch-commands.js';
import { registerCohortCommands } from './cli/cohort-command.js';
import { registerTraceCommand } from './cli/trace-command.js';
import { registerWorkerCommand } from './cli/worker-command.js';
import { registerSimulatorCommand } from './cli/simulator-command.js';
import { registerAuditCommand } from './cli/audit-command.js';
import { signInOption } from './cli/sign-in-session.js';
import { registerUsersCommand } from './cli/users-command.js';
import { registerServeCommand } from './cli/serve-command.js';
import { commandGuard } from './cli/session.js';

const program = new Command();
program
  .name('pds-trace')
  .description('Batch tracing of patient records against the NHS PDS Spine Mini Service Provider (SMSP) API')
  .version('0.1.0')
  .showHelpAfterError();

registerTraceCommand(program);
registerWorkerCommand(program);
registerBatchCommands(program);
registerSimulatorCommand(program, undefined, commandGuard('simulator')).addOption(signInOption());
registerUsersCommand(program);
registerAuditCommand(program);
registerCohortCommands(program);
registerServeCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = EXIT.config;
  } else if (err instanceof CliError) {
    process.stderr.write(`pds-trace: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
