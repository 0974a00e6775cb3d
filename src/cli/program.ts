import { Command, Option } from 'commander';
import { registerBatchCommands } from './batch-commands.js';
import { registerCohortCommands } from './cohort-command.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerScheduleCommands } from './schedule-command.js';
import { registerTraceCommand } from './trace-command.js';
import { registerWorkerCommand } from './worker-command.js';
import { registerWatchCommand } from './watch-command.js';
import { registerSimulatorCommand } from './simulator-command.js';
import { registerAuditCommand } from './audit-command.js';
import { signInOption } from './sign-in-session.js';
import { registerUsersCommand } from './users-command.js';
import { registerServeCommand } from './serve-command.js';
import { commandGuard } from './session.js';

/**
 * The `pds-trace` program: every command registered, nothing parsed. src/cli.ts runs it; tests and
 * the deployment checks (test/deploy/) read its commands and options from here, so what a compose
 * file or a systemd unit may run is what the program registers.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('pds-trace')
    .description('Batch tracing of patient records against the NHS PDS Spine Mini Service Provider (SMSP) API')
    .version('0.1.0')
    .addOption(new Option('--log-format <format>', 'log lines as text or JSON (default: text on a terminal, JSON otherwise; PDS_TRACE_LOG_FORMAT)').choices(['json', 'text']))
    .showHelpAfterError()
    .hook('preAction', () => {
      // The option is the setting for this one run: config.ts stays the one place that reads and
      // validates settings, and every logger the command makes follows it.
      const { logFormat } = program.opts<{ logFormat?: string }>();
      if (logFormat) process.env.PDS_TRACE_LOG_FORMAT = logFormat;
    });

  registerTraceCommand(program);
  registerWorkerCommand(program);
  registerWatchCommand(program);
  registerScheduleCommands(program);
  registerBatchCommands(program);
  registerSimulatorCommand(program, undefined, commandGuard('simulator')).addOption(signInOption());
  registerUsersCommand(program);
  registerAuditCommand(program);
  registerCohortCommands(program);
  registerServeCommand(program);
  registerDoctorCommand(program);
  return program;
}
