import path from 'node:path';
import type { Command } from 'commander';
import { writeCohort } from '../simulator/cohort.js';
import { DEFAULT_POPULATION } from '../simulator/defaults.js';
import { writePopulation } from '../simulator/population-file.js';
import { CliError, EXIT } from './errors.js';
import { signedInCommand } from './session.js';

function wholeNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${name} must be a positive whole number`, EXIT.usage);
  return n;
}

/** Synthetic test data from the simulator's population: cohorts with ground truth, and population files. */
export function registerCohortCommands(program: Command): void {
  signedInCommand(
    program
    .command('cohort')
    .description('write a synthetic cohort CSV and its expected outcomes (ground truth) from a simulator population')
    .argument('<dir>', 'folder to write <name>.csv and <name>.expected.csv into')
    .option('--rows <n>', 'rows in the cohort', '1000')
    .option('--name <name>', 'file name stem', 'cohort')
    .option('--seed <seed>', 'population seed (match the simulator\'s)', DEFAULT_POPULATION.seed)
    .option('--size <n>', 'population size (match the simulator\'s)', String(DEFAULT_POPULATION.size)),
    'cohort',
    async (_session, dir: string, flags: { rows: string; name: string; seed: string; size: string }) => {
      const written = await writeCohort({
        seed: flags.seed,
        size: wholeNumber('--size', flags.size),
        rows: wholeNumber('--rows', flags.rows),
        outDir: path.resolve(dir),
        name: flags.name,
      });
      process.stdout.write(`${written.csvPath}\n${written.expectedPath}\n`);
    },
  );

  signedInCommand(
    program
    .command('population')
    .description('export a simulator population as JSON Lines (for `simulator --population FILE`)')
    .argument('<file>', 'file to write')
    .option('--seed <seed>', 'population seed', DEFAULT_POPULATION.seed)
    .option('--size <n>', 'people in the population', String(DEFAULT_POPULATION.size)),
    'population',
    async (_session, file: string, flags: { seed: string; size: string }) => {
      await writePopulation(path.resolve(file), { seed: flags.seed, size: wholeNumber('--size', flags.size) });
      process.stdout.write(`${path.resolve(file)}\n`);
    },
  );
}
