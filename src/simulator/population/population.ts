/**
 * A synthetic PDS population: a seed and a size, from which any person can be generated on demand.
 * Nothing is held per person, so a population of the test range's full 900,000 people costs the
 * same memory as one of ten.
 */

import { createBirthDateLayout, dayToPdsDate, pdsDateSpan } from './birth-dates.js';
import { PopulationSizeError } from './errors.js';
import { createNhsNumberLayout, MAX_POPULATION_SIZE, type NhsNumberLayout } from './nhs-numbers.js';
import { createPersonGenerator, type PersonCore, type SyntheticPerson } from './person.js';
import { hashSeed } from './prng.js';
import { createPopulationStructure, type PopulationStructure } from './structure.js';

export interface PopulationOptions {
  seed: string | number;
  /** Number of records (NHS numbers), superseded and invalidated ones included; at most MAX_POPULATION_SIZE. */
  size: number;
}

export interface Population {
  readonly seed: string | number;
  readonly size: number;
  readonly seedHash: number;
  readonly structure: PopulationStructure;
  readonly numbers: NhsNumberLayout;
  person(index: number): SyntheticPerson;
  core(index: number): PersonCore;
  /** Index of the record holding `nhsNumber`, or undefined when nobody in this population holds it. */
  indexOf(nhsNumber: string): number | undefined;
  /**
   * Indices of the searchable people whose birth date could agree with `dateOfBirth` at the lower
   * precision of the two (a superset: callers compare the dates). Generated lazily, bucket by bucket.
   */
  searchableBornOn(dateOfBirth: string): Generator<number>;
  /** Every record in index order, generated one at a time (streams: nothing accumulates). */
  people(): Generator<SyntheticPerson>;
}

export function createPopulation(options: PopulationOptions): Population {
  const { seed, size } = options;
  if (!Number.isInteger(size) || size < 1 || size > MAX_POPULATION_SIZE) {
    throw new PopulationSizeError(size, MAX_POPULATION_SIZE);
  }
  const seedHash = hashSeed(seed);
  const numbers = createNhsNumberLayout(seedHash);
  const births = createBirthDateLayout(seedHash, size);
  const structure = createPopulationStructure(seedHash, size, births);
  const generator = createPersonGenerator(seedHash, numbers, births, structure);

  // People held with a partial date sit in their bucket's day but match any query date of that
  // year (or month), so they are found by year from this small list (about one in a thousand).
  let partialByYear: Map<string, number[]> | undefined;
  const partialBornIn = (year: string): readonly number[] => {
    if (!partialByYear) {
      partialByYear = new Map();
      for (const index of structure.partialBirthDateIndices()) {
        const key = dayToPdsDate(births.birthDayOf(index)).slice(0, 4);
        partialByYear.set(key, [...(partialByYear.get(key) ?? []), index]);
      }
    }
    return partialByYear.get(year) ?? [];
  };

  const checkIndex = (index: number) => {
    if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError('person index is outside the population');
  };

  return {
    seed,
    size,
    seedHash,
    structure,
    numbers,
    person(index) {
      checkIndex(index);
      return generator.person(index);
    },
    core(index) {
      checkIndex(index);
      return generator.core(index);
    },
    indexOf(nhsNumber) {
      const index = numbers.indexOf(nhsNumber);
      return index !== undefined && index < size ? index : undefined;
    },
    *searchableBornOn(dateOfBirth) {
      const span = pdsDateSpan(dateOfBirth);
      if (!span) return;
      for (const index of births.indicesBornBetween(span.first, span.last)) {
        if (structure.partialBirthDatePrecision(index) === undefined && structure.isSearchable(index)) yield index;
      }
      for (const index of partialBornIn(dateOfBirth.slice(0, 4))) {
        if (structure.isSearchable(index)) yield index;
      }
    },
    *people() {
      for (let index = 0; index < size; index++) yield generator.person(index);
    },
  };
}
