export * from './nhs-number.js';
export * from './outcome.js';
export * from './demographics.js';
export * from './reasons.js';
export * from './interaction.js';
export * from './row-result.js';
