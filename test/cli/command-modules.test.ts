import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, commandWord, registerCommands } from '../../src/cli/command-modules.js';

describe('loading only the command a run names', () => {
  it('finds the command word past global options and their values', () => {
    expect(commandWord(['status', 'b-1', '--json'])).toBe('status');
    expect(commandWord(['--log-format', 'json', 'users', 'list'])).toBe('users');
    expect(commandWord(['--log-format=text', 'trace', 'x.csv'])).toBe('trace');
    expect(commandWord(['--help'])).toBeUndefined();
    expect(commandWord([])).toBeUndefined();
  });

  it('each module registers exactly the names it is listed under, so a run by name finds its command', async () => {
    for (const module of COMMAND_MODULES) {
      const program = new Command();
      await module.register(program);
      expect(program.commands.map((c) => c.name())).toEqual(module.names);
    }
  });

  it('a run naming a command loads its module alone; a run naming none loads them all, in help order', async () => {
    const one = new Command();
    await registerCommands(one, 'cancel');
    expect(one.commands.map((c) => c.name())).toEqual(['status', 'resume', 'cancel', 'retry', 'purge']);

    for (const word of [undefined, 'help', 'trce']) {
      const all = new Command();
      await registerCommands(all, word);
      expect(all.commands.map((c) => c.name())).toEqual(COMMAND_MODULES.flatMap((m) => m.names));
    }
  });
});
