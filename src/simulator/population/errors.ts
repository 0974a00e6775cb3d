/** Failures of the synthetic population. Messages name the rule or field, never a value from a record. */

/** A population size the NHS number test range cannot hold, or that is not a whole number. */
export class PopulationSizeError extends Error {
  override readonly name = 'PopulationSizeError';
  constructor(
    readonly size: number,
    readonly maxSize: number,
  ) {
    super(`population size must be a whole number from 1 to ${maxSize}`);
  }
}

/** A population file that is not one written by writePopulation. */
export class PopulationFileError extends Error {
  override readonly name = 'PopulationFileError';
  constructor(
    readonly line: number,
    readonly rule: string,
    options?: { cause?: unknown },
  ) {
    super(`population file line ${line}: ${rule}`, options);
  }
}

/** A cohort row for which no scenario, not even the fallback, could be drawn from the population. */
export class CohortDrawError extends Error {
  override readonly name = 'CohortDrawError';
  constructor(readonly rowNumber: number) {
    super(`cohort row ${rowNumber} could not be drawn: the population has too few live people with full birth dates`);
  }
}
