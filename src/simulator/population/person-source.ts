/**
 * Where the matching rules get people from: a generated population (computed on demand, flat memory
 * at any size) or the records of a population file (held in memory). Both answer the same two
 * questions, so one set of rules (../matching.ts) serves both.
 */

import type { PdsDate } from '../../domain/demographics.js';
import type { PersonCore, SyntheticPerson } from './person.js';
import type { Population } from './population.js';

/** What PDS holds under one NHS number. */
export type NumberRecord =
  | { kind: 'unknown' }
  | { kind: 'live'; person: SyntheticPerson }
  | { kind: 'superseded'; replacement: SyntheticPerson }
  | { kind: 'invalidated' };

/** A person a search may return: the compared fields first, the whole record only when needed. */
export interface SearchCandidate {
  core: PersonCore;
  person(): SyntheticPerson;
}

export interface PersonSource {
  readonly size: number;
  lookup(nhsNumber: string): NumberRecord;
  /**
   * Live people whose birth date may agree with `dateOfBirth` at the lower precision of the two.
   * May yield more (the rules compare dates again); must not leave anyone out.
   */
  searchCandidates(dateOfBirth: PdsDate): Iterable<SearchCandidate>;
}

export function generatedPersonSource(population: Population): PersonSource {
  return {
    size: population.size,
    lookup(nhsNumber) {
      const index = population.indexOf(nhsNumber);
      if (index === undefined) return { kind: 'unknown' };
      const status = population.structure.statusOf(index);
      if (status === 'invalidated') return { kind: 'invalidated' };
      if (status === 'superseded') return { kind: 'superseded', replacement: population.person(population.structure.replacementOf(index)!) };
      return { kind: 'live', person: population.person(index) };
    },
    *searchCandidates(dateOfBirth) {
      for (const index of population.searchableBornOn(dateOfBirth)) {
        yield { core: population.core(index), person: () => population.person(index) };
      }
    },
  };
}

/** Thrown by memoryPersonSource when records contradict each other; names the rule, never a value. */
export class PopulationRecordsError extends Error {
  override readonly name = 'PopulationRecordsError';
  constructor(readonly rule: string) {
    super(`population records are inconsistent: ${rule}`);
  }
}

export function memoryPersonSource(people: Iterable<SyntheticPerson>): PersonSource {
  const byNumber = new Map<string, SyntheticPerson>();
  // Live people by birth year: every query date, full or partial, starts with a year.
  const liveByYear = new Map<string, SyntheticPerson[]>();
  for (const person of people) {
    if (byNumber.has(person.nhsNumber)) throw new PopulationRecordsError('an NHS number appears twice');
    byNumber.set(person.nhsNumber, person);
    if (person.record !== 'live') continue;
    const year = person.dateOfBirth.slice(0, 4);
    const list = liveByYear.get(year);
    if (list) list.push(person);
    else liveByYear.set(year, [person]);
  }
  for (const person of byNumber.values()) {
    if (person.record === 'superseded' && byNumber.get(person.supersededBy ?? '')?.record !== 'live') {
      throw new PopulationRecordsError('a superseded record does not point at a live record');
    }
  }
  return {
    size: byNumber.size,
    lookup(nhsNumber) {
      const person = byNumber.get(nhsNumber);
      if (!person) return { kind: 'unknown' };
      if (person.record === 'invalidated') return { kind: 'invalidated' };
      if (person.record === 'superseded') return { kind: 'superseded', replacement: byNumber.get(person.supersededBy!)! };
      return { kind: 'live', person };
    },
    *searchCandidates(dateOfBirth) {
      for (const person of liveByYear.get(dateOfBirth.slice(0, 4)) ?? []) yield { core: person, person: () => person };
    },
  };
}
