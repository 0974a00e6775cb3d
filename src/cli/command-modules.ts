import type { Command } from 'commander';

/**
 * Every command module of pds-trace, in the order `--help` lists them, with the top-level names each
 * registers. A run loads only the module of the command it names: a command's dependencies (the web
 * server, BullMQ, PostgreSQL, the XML stack) cost about a second of CPU to load, which every
 * `pds-trace status` or `users list` would otherwise pay for all the others. Help, a mistyped command
 * (so commander can suggest the right one) and no command at all load them all.
 */
interface CommandModule {
  names: readonly string[];
  register(program: Command): Promise<void>;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['trace'], register: async (p) => (await import('./trace-command.js')).registerTraceCommand(p) },
  { names: ['worker'], register: async (p) => (await import('./worker-command.js')).registerWorkerCommand(p) },
  { names: ['watch'], register: async (p) => (await import('./watch-command.js')).registerWatchCommand(p) },
  { names: ['schedule'], register: async (p) => (await import('./schedule-command.js')).registerScheduleCommands(p) },
  { names: ['status', 'resume', 'cancel', 'retry', 'purge'], register: async (p) => (await import('./batch-commands.js')).registerBatchCommands(p) },
  {
    names: ['simulator'],
    register: async (p) => {
      const [{ registerSimulatorCommand }, { commandGuard }, { signInOption }] = await Promise.all([
        import('./simulator-command.js'),
        import('./session.js'),
        import('./sign-in-session.js'),
      ]);
      registerSimulatorCommand(p, undefined, commandGuard('simulator')).addOption(signInOption());
    },
  },
  { names: ['users'], register: async (p) => (await import('./users-command.js')).registerUsersCommand(p) },
  { names: ['audit'], register: async (p) => (await import('./audit-command.js')).registerAuditCommand(p) },
  { names: ['cohort', 'population'], register: async (p) => (await import('./cohort-command.js')).registerCohortCommands(p) },
  { names: ['serve'], register: async (p) => (await import('./serve-command.js')).registerServeCommand(p) },
  {
    names: ['doctor'],
    register: async (p) => {
      (await import('./doctor-command.js')).registerDoctorCommand(p);
    },
  },
];

/** Global options that take a value as the next word (`--log-format json`). */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--log-format']);

/** The command a command line names: its first word that is neither an option nor an option's value. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Registers the module of `word`'s command, or every module when `word` names none. */
export async function registerCommands(program: Command, word: string | undefined): Promise<void> {
  const named = COMMAND_MODULES.filter((m) => word !== undefined && m.names.includes(word));
  for (const module of named.length > 0 ? named : COMMAND_MODULES) await module.register(program);
}
