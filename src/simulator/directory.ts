/**
 * The simulated PDS behind the SMSP simulator: answers a query with the PDS business outcome
 * (matching.ts). Protocol errors, faults and SMSP-0001 are the server's job, not the directory's.
 */

import type { Interaction } from '../domain/interaction.js';
import type { PatientQuery } from '../domain/demographics.js';
import { answerQuery, type SimulatedAnswer } from './matching.js';
import type { SyntheticPerson } from './population/person.js';
import { generatedPersonSource, memoryPersonSource, type PersonSource } from './population/person-source.js';
import { createPopulation } from './population/population.js';
import { readPopulationFile } from './population-file.js';

export type { SimulatedAnswer } from './matching.js';

export interface PdsDirectory {
  readonly size: number;
  answer(interaction: Interaction, query: PatientQuery): SimulatedAnswer;
}

function directoryOver(source: PersonSource): PdsDirectory {
  return {
    size: source.size,
    answer: (interaction, query) => answerQuery(source, interaction, query),
  };
}

/**
 * A directory over the population generated from seed and size. Starts at once and keeps no
 * per-person state at any size (people are generated when a query needs them): the way to go for
 * large populations.
 */
export function createDirectory(options: { seed: string | number; size: number }): PdsDirectory {
  return directoryOver(generatedPersonSource(createPopulation(options)));
}

/**
 * A directory over a population file written by writePopulation. Holds every record in memory,
 * so suits files of up to a few hundred thousand records; createDirectory with the file's seed and
 * size answers identically without loading anything.
 */
export async function loadDirectory(file: string): Promise<PdsDirectory> {
  const { people } = await readPopulationFile(file);
  const records: SyntheticPerson[] = [];
  for await (const person of people) records.push(person);
  return directoryOver(memoryPersonSource(records));
}
