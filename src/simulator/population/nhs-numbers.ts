/**
 * Where each synthetic person's NHS number comes from: an invertible mapping from person index to
 * a valid number in the never-issued test range 999 000 0000 – 999 999 9999, so a number can be
 * looked up by computing its index instead of keeping an index of everyone.
 *
 * The nine leading digits are 999 + six digits; group them by their first five of those six
 * (100,000 groups of ten). Within a group the tenth digit's weight is 2, so the ten candidates
 * cover ten different residues mod 11 and at most one has check digit 10 (never issued, SPEC §9):
 * every group holds nine or ten valid numbers. The layout uses the first nine valid numbers of
 * each group, groups visited in a seed-chosen permuted order, so capacity is exactly 900,000; the
 * tenth valid number of a group, where there is one, is never issued to anybody and is a ready
 * "not in PDS" number for tests.
 */

import { nhsCheckDigit } from '../../domain/nhs-number.js';
import { coprimeMultiplier, hash32, modInverse, STREAMS } from './prng.js';

const TEST_RANGE_PREFIX = '999';
const GROUPS = 100_000;
const NUMBERS_PER_GROUP = 9;

/** The most people one synthetic population can hold: the test range has no more valid numbers to give. */
export const MAX_POPULATION_SIZE = GROUPS * NUMBERS_PER_GROUP;

export interface NhsNumberLayout {
  /** The NHS number of person `index` (0 ≤ index < MAX_POPULATION_SIZE). */
  numberOf(index: number): string;
  /** The index of the person holding `nhsNumber`, or undefined when the layout issues it to nobody. */
  indexOf(nhsNumber: string): number | undefined;
  /** The valid test-range numbers of a group that the layout never issues (for "not in PDS" cases). */
  unissuedNumbers(group: number): string[];
}

function firstNine(group: number, lastDigit: number): string {
  return `${TEST_RANGE_PREFIX}${String(group * 10 + lastDigit).padStart(6, '0')}`;
}

/** The valid last digits of a group's nine-digit stems, ascending, with their check digits. */
function validStems(group: number): { digit: number; check: number }[] {
  const stems: { digit: number; check: number }[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const check = nhsCheckDigit(firstNine(group, digit));
    if (check !== null) stems.push({ digit, check });
  }
  return stems;
}

export function createNhsNumberLayout(seedHash: number): NhsNumberLayout {
  // Group order g → (g·a + b) mod GROUPS: a permutation chosen by the seed, so different seeds
  // give different numbers and neighbouring people do not get neighbouring numbers.
  const a = coprimeMultiplier(seedHash, STREAMS.layout, GROUPS);
  const aInverse = modInverse(a, GROUPS);
  const b = hash32(seedHash, 1, STREAMS.layout) % GROUPS;

  return {
    numberOf(index) {
      if (!Number.isInteger(index) || index < 0 || index >= MAX_POPULATION_SIZE) {
        throw new RangeError('person index is outside the NHS number test range capacity');
      }
      const group = (Math.floor(index / NUMBERS_PER_GROUP) * a + b) % GROUPS;
      const stem = validStems(group)[index % NUMBERS_PER_GROUP]!;
      return `${firstNine(group, stem.digit)}${stem.check}`;
    },
    indexOf(nhsNumber) {
      if (!/^\d{10}$/.test(nhsNumber) || !nhsNumber.startsWith(TEST_RANGE_PREFIX)) return undefined;
      const stemNumber = Number(nhsNumber.slice(3, 9));
      const group = Math.floor(stemNumber / 10);
      const slot = validStems(group).findIndex((s) => s.digit === stemNumber % 10 && s.check === Number(nhsNumber[9]));
      if (slot < 0 || slot >= NUMBERS_PER_GROUP) return undefined;
      const position = (((group - b) % GROUPS) + GROUPS) % GROUPS;
      return ((position * aInverse) % GROUPS) * NUMBERS_PER_GROUP + slot;
    },
    unissuedNumbers(group) {
      return validStems(group)
        .slice(NUMBERS_PER_GROUP)
        .map((s) => `${firstNine(group, s.digit)}${s.check}`);
    },
  };
}
