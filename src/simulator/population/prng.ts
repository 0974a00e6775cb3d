/**
 * Deterministic randomness for the synthetic population. Every value is a pure function of
 * (seed, person index, stream), so person i can be generated on its own, in any order, by any
 * process, without generating anyone before it: that is what lets a directory of hundreds of
 * thousands of people start instantly and answer from a handful of generated candidates.
 */

/** A 32-bit hash of the population seed (FNV-1a over the string form, then avalanche-mixed). */
export function hashSeed(seed: string | number): number {
  const text = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a seed hash, an index and a stream number (one stream per kind of fact). */
export function hash32(seedHash: number, index: number, stream: number): number {
  // The index may exceed 2^32 in principle; fold the high part in so no two indices collide.
  const high = Math.floor(index / 0x1_0000_0000);
  let h = fmix32(seedHash ^ Math.imul(stream + 1, 0x9e3779b1));
  h = fmix32(h ^ (index >>> 0));
  return fmix32(h ^ Math.imul(high + 1, 0x27d4eb2f));
}

/** A uniform number in [0, 1) for (seed, index, stream). */
export function unit(seedHash: number, index: number, stream: number): number {
  return hash32(seedHash, index, stream) / 0x1_0000_0000;
}

/** A small sequential generator (mulberry32) for facts that need several draws, e.g. an address. */
export class Rng {
  private state: number;

  constructor(seedHash: number, index: number, stream: number) {
    this.state = hash32(seedHash, index, stream);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** Uniform integer in [0, bound). */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** Uniform integer in [min, max] inclusive. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[this.int(items.length)]!;
  }
}

/** The streams: one per kind of fact, so adding a draw to one never shifts another. */
export const STREAMS = {
  recordStatus: 1,
  twinLeader: 2,
  twinSize: 3,
  twinHousehold: 4,
  names: 5,
  address: 6,
  contact: 7,
  care: 8,
  partialPrecision: 9,
  layout: 10,
  cohort: 11,
} as const;

/** Greatest common divisor, for choosing multipliers that permute a range. */
export function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** The inverse of `a` modulo `m` (a and m coprime), by the extended Euclidean algorithm. */
export function modInverse(a: number, m: number): number {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1, 0];
  while (r !== 0) {
    const q = Math.floor(oldR / r);
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1) throw new RangeError('no modular inverse: values are not coprime');
  return ((oldS % m) + m) % m;
}

/** A multiplier in [1, m) coprime with m, chosen by the seed: i → (i·k + c) mod m is then a permutation. */
export function coprimeMultiplier(seedHash: number, stream: number, m: number): number {
  if (m <= 1) return 1;
  let k = 1 + (hash32(seedHash, 0, stream) % (m - 1));
  while (gcd(k, m) !== 1) k = k + 1 >= m ? 1 : k + 1;
  return k;
}
