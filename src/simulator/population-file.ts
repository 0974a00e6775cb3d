/**
 * A synthetic population as a file: JSON Lines, a metadata line first, then one record per line in
 * index order. Written as a stream (nothing accumulates), so a file of the full 900,000 records
 * costs no more memory than one of ten. Reading holds the records in memory: for large populations
 * prefer a generated directory (createDirectory), which answers the same from the seed alone.
 */

import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { SEX_CODES } from '../domain/demographics.js';
import { PopulationFileError } from './population/errors.js';
import type { SyntheticPerson } from './population/person.js';
import { createPopulation, type PopulationOptions } from './population/population.js';

const FORMAT = 'pds-trace-population';
const VERSION = 1;

const METADATA = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  seed: z.union([z.string(), z.number()]),
  size: z.number().int().positive(),
});

export type PopulationFileMetadata = z.infer<typeof METADATA>;

const PDS_DATE = z.string().regex(/^\d{4}(\d{2}){0,2}$/);

const PERSON = z.object({
  nhsNumber: z.string().regex(/^\d{10}$/),
  record: z.enum(['live', 'superseded', 'invalidated']),
  supersededBy: z.string().regex(/^\d{10}$/).optional(),
  title: z.string().optional(),
  givenNames: z.array(z.string()),
  familyName: z.string(),
  sex: z.enum(SEX_CODES),
  dateOfBirth: PDS_DATE,
  dateOfDeath: PDS_DATE.optional(),
  addresses: z.array(z.object({ use: z.string().optional(), lines: z.array(z.string()), postcode: z.string().optional() })),
  telecoms: z.array(z.object({ use: z.string().optional(), value: z.string() })),
  gpPractice: z.object({ odsCode: z.string(), name: z.string().optional() }).optional(),
  sensitive: z.boolean(),
});

/** Writes the population generated from `options` to `file`, one record at a time. */
export async function writePopulation(file: string, options: PopulationOptions): Promise<void> {
  const population = createPopulation(options);
  const metadata: PopulationFileMetadata = { format: FORMAT, version: VERSION, seed: options.seed, size: population.size };
  function* lines(): Generator<string> {
    yield `${JSON.stringify(metadata)}\n`;
    for (const person of population.people()) yield `${JSON.stringify(person)}\n`;
  }
  // Readable.from honours the file stream's back-pressure: the next record is generated only when wanted.
  await pipeline(Readable.from(lines()), createWriteStream(file, { encoding: 'utf8' }));
}

function parseLine<T>(schema: z.ZodType<T>, text: string, lineNumber: number, rule: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PopulationFileError(lineNumber, 'line is not JSON', { cause });
  }
  const parsed = schema.safeParse(json);
  // Zod's issues would quote the offending values (patient data): report the rule and line only.
  if (!parsed.success) throw new PopulationFileError(lineNumber, rule);
  return parsed.data;
}

/** Reads a file written by writePopulation: its metadata, then its records as they are read. */
export async function readPopulationFile(
  file: string,
): Promise<{ metadata: PopulationFileMetadata; people: AsyncGenerator<SyntheticPerson> }> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })[Symbol.asyncIterator]();
  let metadata: PopulationFileMetadata;
  try {
    const first = await lines.next();
    if (first.done) throw new PopulationFileError(1, 'file is empty');
    metadata = parseLine(METADATA, first.value, 1, `first line is not ${FORMAT} version ${VERSION} metadata`);
  } catch (err) {
    await lines.return?.(); // closes the file
    throw err;
  }
  async function* people(): AsyncGenerator<SyntheticPerson> {
    let lineNumber = 1;
    try {
      for (let next = await lines.next(); !next.done; next = await lines.next()) {
        lineNumber++;
        if (next.value.trim() === '') continue;
        yield parseLine(PERSON, next.value, lineNumber, 'line is not a population record') satisfies SyntheticPerson;
      }
    } finally {
      await lines.return?.(); // closes the file when reading stops early or fails
    }
  }
  return { metadata, people: people() };
}
