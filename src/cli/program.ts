import { Command, Option } from 'commander';
import { registerCommands } from './command-modules.js';

/**
 * The `pds-trace` program, nothing parsed. src/cli.ts runs it with the command its command line
 * names, so only that command's module loads; tests and the deployment checks (test/deploy/) build
 * it whole and read its commands and options from here, so what a compose file or a systemd unit
 * may run is what the program registers.
 */
export async function buildProgram(commandWord?: string): Promise<Command> {
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
  await registerCommands(program, commandWord);
  return program;
}
