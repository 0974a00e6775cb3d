/**
 * Where each synthetic person's date of birth comes from. Dates of birth are a function of the
 * person index, arranged so that the people born on a given day are computable: index i lives in
 * "birth bucket" (i mod B) permuted by the seed, and bucket b is one day of the birth range. A
 * search by date of birth — full, YYYYMM or YYYY (SPEC §4.4) — therefore only generates the people
 * of the matching buckets, never the whole population.
 */

import type { PdsDate } from '../../domain/demographics.js';
import { coprimeMultiplier, hash32, modInverse, STREAMS } from './prng.js';

const DAY_MS = 86_400_000;
const BIRTH_RANGE_START = Date.UTC(1925, 0, 1) / DAY_MS;
const BIRTH_RANGE_END = Date.UTC(2023, 11, 31) / DAY_MS;
const BIRTH_RANGE_DAYS = BIRTH_RANGE_END - BIRTH_RANGE_START + 1;

/** The fixed "today" of the synthetic world: ages and deaths are computed against it, never the clock. */
export const REFERENCE_DAY = Date.UTC(2024, 6, 1) / DAY_MS;

/**
 * Fewest people sharing a birth date. Small populations use fewer, spread-out birth dates so that
 * people still share them: near-twins and multiple matches need company on the same day.
 */
const MIN_PEOPLE_PER_BIRTH_DATE = 6;

/** Days since 1970-01-01 (UTC) → YYYYMMDD. */
export function dayToPdsDate(day: number): PdsDate {
  const d = new Date(day * DAY_MS);
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  return `${d.getUTCFullYear()}${mm}${dd}`;
}

/** YYYYMMDD, YYYYMM or YYYY → the first and last day it covers, or undefined when it is no real date. */
export function pdsDateSpan(date: PdsDate): { first: number; last: number } | undefined {
  const match = /^(\d{4})(\d{2})?(\d{2})?$/.exec(date);
  if (!match) return undefined;
  const year = Number(match[1]);
  if (match[2] === undefined) return { first: Date.UTC(year, 0, 1) / DAY_MS, last: Date.UTC(year, 11, 31) / DAY_MS };
  const month = Number(match[2]);
  if (month < 1 || month > 12) return undefined;
  if (match[3] === undefined) {
    return { first: Date.UTC(year, month - 1, 1) / DAY_MS, last: Date.UTC(year, month, 0) / DAY_MS };
  }
  const day = Date.UTC(year, month - 1, Number(match[3])) / DAY_MS;
  // Date.UTC rolls 31 April over to 1 May; a date that does not round-trip does not exist.
  return dayToPdsDate(day) === date ? { first: day, last: day } : undefined;
}

export interface BirthDateLayout {
  /** How many birth buckets (distinct birth dates) the population uses. */
  readonly buckets: number;
  /** Layer of person `index`: people of one bucket are index r, r+B, r+2B, ... (layers 0, 1, 2, ...). */
  layerOf(index: number): number;
  /** Day (since 1970-01-01 UTC) person `index` was born. */
  birthDayOf(index: number): number;
  /** Indices of everyone whose birth day lies in [firstDay, lastDay], bucket by bucket. */
  indicesBornBetween(firstDay: number, lastDay: number): Generator<number>;
}

export function createBirthDateLayout(seedHash: number, size: number): BirthDateLayout {
  const buckets = Math.max(1, Math.min(BIRTH_RANGE_DAYS, Math.ceil(size / MIN_PEOPLE_PER_BIRTH_DATE)));
  const k = coprimeMultiplier(seedHash, STREAMS.layout + 100, buckets);
  const kInverse = modInverse(k, buckets);
  const c = hash32(seedHash, 2, STREAMS.layout) % buckets;

  // Bucket b is day floor(b·R/B) of the range: increasing in b, so a span of days is a span of buckets.
  const dayOfBucket = (bucket: number) => BIRTH_RANGE_START + Math.floor((bucket * BIRTH_RANGE_DAYS) / buckets);
  const firstBucketOnOrAfter = (day: number) => Math.ceil(((day - BIRTH_RANGE_START) * buckets) / BIRTH_RANGE_DAYS);

  return {
    buckets,
    layerOf: (index) => Math.floor(index / buckets),
    birthDayOf: (index) => dayOfBucket(((index % buckets) * k + c) % buckets),
    *indicesBornBetween(firstDay, lastDay) {
      const from = Math.max(0, firstBucketOnOrAfter(Math.max(firstDay, BIRTH_RANGE_START)));
      const to = Math.min(buckets, firstBucketOnOrAfter(Math.min(lastDay, BIRTH_RANGE_END) + 1));
      for (let bucket = from; bucket < to; bucket++) {
        const residue = ((((bucket - c) % buckets) + buckets) % buckets) * kInverse % buckets;
        for (let index = residue; index < size; index += buckets) yield index;
      }
    },
  };
}
