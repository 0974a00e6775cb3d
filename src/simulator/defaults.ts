/**
 * The population the built-in simulator serves when none is named. The sample cohorts in
 * `samples/` were generated from this same population, so the quick start's answers are known.
 */
export const DEFAULT_POPULATION = { seed: 'pds-trace', size: 100_000 } as const;
