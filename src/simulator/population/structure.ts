/**
 * The shape of a synthetic population, as pure index arithmetic: which records are superseded or
 * invalidated, who holds only a partial date of birth, and which people are deliberate near-twins.
 * Nothing here depends on names or addresses, so a directory can ask "is person i searchable?"
 * without generating person i.
 */

import type { BirthDateLayout } from './birth-dates.js';
import { hash32, STREAMS, unit } from './prng.js';

/** What PDS holds under an NHS number: a person, a number merged into another (DEMOG-0017), or a dead number (DEMOG-0022). */
export type RecordStatus = 'live' | 'superseded' | 'invalidated';

/** Share of records whose number was superseded by a merge (SPEC §6.1 DEMOG-0017). */
const SUPERSEDED_RATE = 0.01;
/** Share of records invalidated with no replacement (SPEC §6.1 DEMOG-0022). */
const INVALIDATED_RATE = 0.005;
/** Share of layer-0-mod-3 people who lead a near-twin group. */
const TWIN_LEADER_RATE = 0.03;
/** Share of twin groups that are triples. */
const TRIPLE_RATE = 0.3;
/** Share of twin groups living at one address, so even a search with postcode gets DEMOG-0007. */
const SHARED_HOUSEHOLD_RATE = 0.5;
/** One person in this many holds only a partial date of birth (PDS has a few; SPEC §4.4). */
const PARTIAL_BIRTH_DATE_EVERY = 997;

export interface TwinGroup {
  /** Indices of the members, the leader first; members share family name, given names, sex and birth date. */
  members: number[];
  /** Members also share the leader's home address (and so its postcode). */
  sharedHousehold: boolean;
}

export interface PopulationStructure {
  statusOf(index: number): RecordStatus;
  /** The index whose number replaces a superseded record's (always a live person born the same day). */
  replacementOf(index: number): number | undefined;
  /** The index of the person whose record a superseded one duplicated; the index itself otherwise. */
  demographicSourceOf(index: number): number;
  /** 4 (YYYY) or 6 (YYYYMM) for people PDS holds a partial birth date for; undefined for full dates. */
  partialBirthDatePrecision(index: number): 4 | 6 | undefined;
  /** Every index with a partial birth date, ascending (about one in a thousand people; kept in memory). */
  partialBirthDateIndices(): readonly number[];
  twinGroupOf(index: number): TwinGroup | undefined;
  /** Live, findable by a demographic search (superseded and invalidated records are not). */
  isSearchable(index: number): boolean;
}

export function createPopulationStructure(seedHash: number, size: number, births: BirthDateLayout): PopulationStructure {
  const step = births.buckets;
  const partialResidue = hash32(seedHash, 3, STREAMS.layout) % PARTIAL_BIRTH_DATE_EVERY;
  let partialIndices: number[] | undefined;

  const inPopulation = (index: number) => index >= 0 && index < size;

  const drawnStatus = (index: number): RecordStatus => {
    const u = unit(seedHash, index, STREAMS.recordStatus);
    if (u < SUPERSEDED_RATE) return 'superseded';
    if (u < SUPERSEDED_RATE + INVALIDATED_RATE) return 'invalidated';
    return 'live';
  };

  // A superseded record points at the next person of its birth bucket, which must exist and be a
  // live record by draw; otherwise the draw falls back to live. No chains, no cycles.
  const supersedes = (index: number) =>
    drawnStatus(index) === 'superseded' && inPopulation(index + step) && drawnStatus(index + step) === 'live';

  const statusOf = (index: number): RecordStatus => {
    const drawn = drawnStatus(index);
    if (drawn === 'superseded') return supersedes(index) ? 'superseded' : 'live';
    return drawn;
  };

  const hasPartialBirthDate = (index: number) => index % PARTIAL_BIRTH_DATE_EVERY === partialResidue;

  const canBeTwin = (index: number) => inPopulation(index) && statusOf(index) === 'live' && !hasPartialBirthDate(index);

  // Groups start only on layers 0, 3, 6, ... and take the same bucket's next one or two layers, so
  // no person can belong to two groups and membership is decided without looking further back.
  const groupLedBy = (leader: number): TwinGroup | undefined => {
    if (births.layerOf(leader) % 3 !== 0 || !canBeTwin(leader)) return undefined;
    if (unit(seedHash, leader, STREAMS.twinLeader) >= TWIN_LEADER_RATE || !canBeTwin(leader + step)) return undefined;
    const members = [leader, leader + step];
    if (unit(seedHash, leader, STREAMS.twinSize) < TRIPLE_RATE && canBeTwin(leader + 2 * step)) members.push(leader + 2 * step);
    return { members, sharedHousehold: unit(seedHash, leader, STREAMS.twinHousehold) < SHARED_HOUSEHOLD_RATE };
  };

  return {
    statusOf,
    replacementOf: (index) => (statusOf(index) === 'superseded' ? index + step : undefined),
    demographicSourceOf: (index) => (statusOf(index) === 'superseded' ? index + step : index),
    partialBirthDatePrecision(index) {
      if (!hasPartialBirthDate(index)) return undefined;
      return unit(seedHash, index, STREAMS.partialPrecision) < 0.4 ? 4 : 6;
    },
    partialBirthDateIndices() {
      if (!partialIndices) {
        partialIndices = [];
        for (let index = partialResidue; index < size; index += PARTIAL_BIRTH_DATE_EVERY) partialIndices.push(index);
      }
      return partialIndices;
    },
    twinGroupOf(index) {
      if (!inPopulation(index)) return undefined;
      const offset = births.layerOf(index) % 3;
      const group = groupLedBy(index - offset * step);
      return group?.members.includes(index) ? group : undefined;
    },
    isSearchable: (index) => inPopulation(index) && statusOf(index) === 'live',
  };
}
