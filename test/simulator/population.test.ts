import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { isValidNhsNumber } from '../../src/domain/nhs-number.js';
import { INTERACTIONS } from '../../src/domain/interaction.js';
import { createDirectory, loadDirectory } from '../../src/simulator/directory.js';
import { readPopulationFile, writePopulation } from '../../src/simulator/population-file.js';
import { NO_FIXED_ABODE_POSTCODE } from '../../src/simulator/population/addresses.js';
import { dayToPdsDate, pdsDateSpan } from '../../src/simulator/population/birth-dates.js';
import { PopulationFileError, PopulationSizeError } from '../../src/simulator/population/errors.js';
import { createNhsNumberLayout, MAX_POPULATION_SIZE } from '../../src/simulator/population/nhs-numbers.js';
import type { SyntheticPerson } from '../../src/simulator/population/person.js';
import { createPopulation } from '../../src/simulator/population/population.js';
import { hashSeed } from '../../src/simulator/population/prng.js';

const UK_POSTCODE = /^[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}$/;

describe('population generation is deterministic', () => {
  it('generates the same people for the same seed and size', () => {
    const a = createPopulation({ seed: 'alpha', size: 5_000 });
    const b = createPopulation({ seed: 'alpha', size: 5_000 });
    for (const index of [0, 1, 17, 2_500, 4_999]) expect(b.person(index)).toEqual(a.person(index));
  });

  it('generates different people for a different seed', () => {
    const a = createPopulation({ seed: 'alpha', size: 5_000 });
    const b = createPopulation({ seed: 'beta', size: 5_000 });
    const numbersA = new Set(Array.from({ length: 50 }, (_, i) => a.person(i).nhsNumber));
    const numbersB = Array.from({ length: 50 }, (_, i) => b.person(i).nhsNumber);
    expect(numbersB.filter((n) => numbersA.has(n)).length).toBeLessThan(5);
    expect(Array.from({ length: 50 }, (_, i) => b.person(i).familyName)).not.toEqual(
      Array.from({ length: 50 }, (_, i) => a.person(i).familyName),
    );
  });

  it('treats a numeric seed like its string form', () => {
    expect(createPopulation({ seed: 42, size: 100 }).person(7)).toEqual(createPopulation({ seed: '42', size: 100 }).person(7));
  });

  it('generates a person the same whether asked alone, out of order or while streaming', () => {
    const population = createPopulation({ seed: 'order', size: 3_000 });
    const alone = population.person(2_345);
    population.person(10);
    population.person(2_999);
    let streamed: SyntheticPerson | undefined;
    let index = 0;
    for (const person of population.people()) {
      if (index++ === 2_345) {
        streamed = person;
        break;
      }
    }
    expect(streamed).toEqual(alone);
    expect(population.person(2_345)).toEqual(alone);
  });
});

describe('NHS numbers', () => {
  it('are valid Modulus 11 numbers in the test range 999 000 0000 – 999 999 9999 and unique', () => {
    const population = createPopulation({ seed: 'numbers', size: 60_000 });
    const seen = new Set<string>();
    for (let index = 0; index < population.size; index++) {
      const n = population.numbers.numberOf(index);
      expect(n.startsWith('999')).toBe(true);
      expect(isValidNhsNumber(n)).toBe(true);
      seen.add(n);
    }
    expect(seen.size).toBe(60_000);
  });

  test.prop([fc.integer({ min: 0, max: MAX_POPULATION_SIZE - 1 }), fc.string()])(
    'are looked up by computing the index back from the number, at any index',
    (index, seed) => {
      const layout = createNhsNumberLayout(hashSeed(seed));
      expect(layout.indexOf(layout.numberOf(index))).toBe(index);
    },
  );

  it('keeps a group\'s tenth valid number unissued, so valid numbers exist that nobody holds', () => {
    const layout = createNhsNumberLayout(hashSeed('spare'));
    let spares = 0;
    for (let group = 0; group < 200; group++) {
      for (const spare of layout.unissuedNumbers(group)) {
        spares++;
        expect(isValidNhsNumber(spare)).toBe(true);
        expect(layout.indexOf(spare)).toBeUndefined();
      }
    }
    expect(spares).toBeGreaterThan(5);
  });

  it('issues nothing outside the population: numbers past its size and outside the range are unknown', () => {
    const population = createPopulation({ seed: 'bounds', size: 1_000 });
    expect(population.indexOf(population.numbers.numberOf(1_000))).toBeUndefined();
    expect(population.indexOf('9449310467')).toBeUndefined(); // an OpenTest number, outside the test range
    expect(population.indexOf(population.person(999).nhsNumber)).toBe(999);
  });
});

describe('population size', () => {
  it('holds at most the 900,000 numbers the test range can give, and says so', () => {
    expect(MAX_POPULATION_SIZE).toBe(900_000);
    expect(() => createPopulation({ seed: 's', size: MAX_POPULATION_SIZE + 1 })).toThrow(PopulationSizeError);
    expect(() => createPopulation({ seed: 's', size: 0 })).toThrow(PopulationSizeError);
    expect(() => createPopulation({ seed: 's', size: 1.5 })).toThrow(PopulationSizeError);
  });

  it('starts a full-size directory at once and answers from it without generating everyone', () => {
    const started = performance.now();
    const population = createPopulation({ seed: 'big', size: MAX_POPULATION_SIZE });
    const directory = createDirectory({ seed: 'big', size: MAX_POPULATION_SIZE });
    const person = population.person(654_321);
    const answer = directory.answer('getPatientDetailsByNHSNumber', { nhsNumber: person.nhsNumber, dateOfBirth: person.dateOfBirth });
    expect(answer.nhsNumber).toBe(person.record === 'superseded' ? person.supersededBy : person.nhsNumber);
    // Generous: generating 900,000 people would take seconds.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('streams 200,000 people without their memory accumulating', () => {
    // Measure live memory, not garbage awaiting collection: collect before each reading.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const population = createPopulation({ seed: 'stream', size: 200_000 });
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let count = 0;
    let lastNumber = '';
    for (const person of population.people()) {
      count++;
      lastNumber = person.nhsNumber;
      if (count % 50_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    expect(count).toBe(200_000);
    expect(lastNumber).toBe(population.numbers.numberOf(199_999));
    // Holding the 150,000 people generated by the last reading would take well over 100 MB.
    expect(peak - before).toBeLessThan(10 * 1024 * 1024);
  });
});

describe('population content', () => {
  const population = createPopulation({ seed: 'content', size: 30_000 });
  const people = Array.from(population.people());

  it('uses every sex code, mostly 1 and 2', () => {
    const counts = new Map<string, number>();
    for (const p of people) counts.set(p.sex, (counts.get(p.sex) ?? 0) + 1);
    for (const code of ['0', '1', '2', '9']) expect(counts.get(code) ?? 0).toBeGreaterThan(0);
    expect((counts.get('1') ?? 0) + (counts.get('2') ?? 0)).toBeGreaterThan(people.length * 0.95);
  });

  it('holds full birth dates for most people and partial ones (YYYY, YYYYMM) for a few', () => {
    const lengths = people.map((p) => p.dateOfBirth.length);
    expect(lengths.filter((l) => l === 8).length).toBeGreaterThan(people.length * 0.99);
    expect(lengths.some((l) => l === 4)).toBe(true);
    expect(lengths.some((l) => l === 6)).toBe(true);
    for (const p of people.filter((p) => p.dateOfBirth.length === 8)) expect(pdsDateSpan(p.dateOfBirth)).toBeDefined();
  });

  it('has names with apostrophes, hyphens, spaces and accents', () => {
    const names = people.flatMap((p) => [p.familyName, ...p.givenNames]);
    expect(names.some((n) => n.includes("'"))).toBe(true);
    expect(names.some((n) => n.includes('-'))).toBe(true);
    expect(names.some((n) => n.includes(' '))).toBe(true);
    expect(names.some((n) => /[À-ÿ]/.test(n))).toBe(true);
    expect(people.every((p) => p.givenNames.length >= 1 && p.givenNames.length <= 2)).toBe(true);
  });

  it('gives every address five lines, blanks kept, and a postcode of valid UK shape', () => {
    for (const p of people) {
      expect(p.addresses.length).toBeGreaterThan(0);
      for (const address of p.addresses) {
        expect(address.lines).toHaveLength(5);
        // ZZ99 3VZ is PDS's pseudo-postcode for people of no fixed abode.
        if (address.postcode !== NO_FIXED_ABODE_POSTCODE) expect(address.postcode).toMatch(UK_POSTCODE);
      }
    }
    expect(people.some((p) => p.addresses[0]!.lines[0] === '')).toBe(true);
    expect(people.some((p) => p.addresses[0]!.postcode === NO_FIXED_ABODE_POSTCODE)).toBe(true);
  });

  it('records deceased people with a date of death after birth and no GP practice', () => {
    const deceased = people.filter((p) => p.dateOfDeath !== undefined);
    expect(deceased.length).toBeGreaterThan(100);
    for (const p of deceased) {
      expect(p.dateOfDeath! >= p.dateOfBirth.slice(0, p.dateOfDeath!.length)).toBe(true);
      expect(p.gpPractice).toBeUndefined();
    }
  });

  it('registers most living people with an ODS-shaped GP practice and gives reserved-range telecoms', () => {
    const registered = people.filter((p) => p.gpPractice);
    expect(registered.length).toBeGreaterThan(people.length * 0.8);
    for (const p of registered) expect(p.gpPractice!.odsCode).toMatch(/^[A-Z]\d{5}$/);
    for (const t of people.flatMap((p) => p.telecoms)) {
      expect(t.value).toMatch(/^(tel:01632960\d{3}|tel:07700900\d{3}|mailto:[a-z.]+\d*@example\.(org|com|net))$/);
    }
  });

  it('flags some people as sensitive', () => {
    expect(people.filter((p) => p.sensitive).length).toBeGreaterThan(30);
  });

  it('supersedes some numbers by a live person born the same day, and invalidates others', () => {
    const byNumber = new Map(people.map((p) => [p.nhsNumber, p]));
    const superseded = people.filter((p) => p.record === 'superseded');
    expect(superseded.length).toBeGreaterThan(100);
    for (const p of superseded) {
      const replacement = byNumber.get(p.supersededBy!)!;
      expect(replacement.record).toBe('live');
      expect(replacement.dateOfBirth).toBe(p.dateOfBirth);
      expect(replacement.familyName).toBe(p.familyName);
    }
    expect(people.filter((p) => p.record === 'invalidated').length).toBeGreaterThan(50);
    expect(people.filter((p) => p.record !== 'superseded').every((p) => p.supersededBy === undefined)).toBe(true);
  });

  it('makes near-twin pairs and triples sharing family name, given names, sex and birth date', () => {
    const sizes = new Map<number, number>();
    let sharedHouseholds = 0;
    for (let index = 0; index < population.size; index++) {
      const group = population.structure.twinGroupOf(index);
      if (!group || group.members[0] !== index) continue;
      sizes.set(group.members.length, (sizes.get(group.members.length) ?? 0) + 1);
      const [leader, ...others] = group.members.map((m) => people[m]!);
      for (const other of others) {
        expect(other.record).toBe('live');
        expect([other.familyName, other.givenNames, other.sex, other.dateOfBirth]).toEqual([
          leader!.familyName,
          leader!.givenNames,
          leader!.sex,
          leader!.dateOfBirth,
        ]);
        expect(other.nhsNumber).not.toBe(leader!.nhsNumber);
        if (group.sharedHousehold) expect(other.addresses[0]!.postcode).toBe(leader!.addresses[0]!.postcode);
      }
      if (group.sharedHousehold) sharedHouseholds++;
    }
    expect(sizes.get(2) ?? 0).toBeGreaterThan(20);
    expect(sizes.get(3) ?? 0).toBeGreaterThan(5);
    expect(sharedHouseholds).toBeGreaterThan(5);
  });
});

describe('birth dates', () => {
  it('converts between days and PDS dates, and rejects dates that do not exist', () => {
    const span = pdsDateSpan('19500312')!;
    expect(span.first).toBe(span.last);
    expect(dayToPdsDate(span.first)).toBe('19500312');
    expect(pdsDateSpan('19500230')).toBeUndefined();
    expect(pdsDateSpan('195013')).toBeUndefined();
    expect(pdsDateSpan('200002')!.last - pdsDateSpan('200002')!.first).toBe(28);
    expect(pdsDateSpan('1950')!.last - pdsDateSpan('1950')!.first).toBe(364);
  });

  it('finds everyone born on a date among the generated candidates for that date', () => {
    const population = createPopulation({ seed: 'births', size: 20_000 });
    const target = population.person(4_321);
    const wanted = target.dateOfBirth;
    const candidates = new Set(population.searchableBornOn(wanted));
    for (let index = 0; index < population.size; index++) {
      const p = population.person(index);
      const agrees = p.dateOfBirth.slice(0, Math.min(8, p.dateOfBirth.length)) === wanted.slice(0, p.dateOfBirth.length);
      if (p.record === 'live' && agrees) expect(candidates.has(index)).toBe(true);
    }
    expect(candidates.size).toBeLessThan(60);
  });
});

describe('population file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pds-population-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes JSON Lines: a metadata line, then every record in index order', async () => {
    const file = path.join(dir, 'small.jsonl');
    await writePopulation(file, { seed: 'file', size: 2_000 });
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(2_001);
    expect(JSON.parse(lines[0]!)).toEqual({ format: 'pds-trace-population', version: 1, seed: 'file', size: 2_000 });
    const population = createPopulation({ seed: 'file', size: 2_000 });
    expect(JSON.parse(lines[1]!)).toEqual(population.person(0));
    expect(JSON.parse(lines[2_000]!)).toEqual(population.person(1_999));

    const { metadata, people } = await readPopulationFile(file);
    expect(metadata.size).toBe(2_000);
    let count = 0;
    for await (const person of people) expect(person).toEqual(population.person(count++));
    expect(count).toBe(2_000);
  });

  it('loads into a directory that answers exactly as the generated one does', async () => {
    const file = path.join(dir, 'answers.jsonl');
    const options = { seed: 'same-answers', size: 6_000 };
    await writePopulation(file, options);
    const loaded = await loadDirectory(file);
    const generated = createDirectory(options);
    const population = createPopulation(options);
    expect(loaded.size).toBe(6_000);
    for (let index = 0; index < population.size; index += 37) {
      const p = population.person(index);
      const queries = [
        { nhsNumber: p.nhsNumber, dateOfBirth: p.dateOfBirth, familyName: p.familyName, localId: 'X1' },
        { nhsNumber: p.nhsNumber, dateOfBirth: '20240101' },
        { familyName: p.familyName, givenName: p.givenNames[0], sex: p.sex, dateOfBirth: p.dateOfBirth, postcode: p.addresses[0]!.postcode },
        { familyName: p.familyName.slice(0, 2) + '*', sex: p.sex, dateOfBirth: p.dateOfBirth.slice(0, 4) },
      ];
      for (const interaction of INTERACTIONS) {
        for (const query of queries) expect(loaded.answer(interaction, query)).toEqual(generated.answer(interaction, query));
      }
    }
  });

  it('rejects a file that is not a population file, naming the line and rule but no value', async () => {
    const file = path.join(dir, 'bad.jsonl');
    await writeFile(file, '{"format":"pds-trace-population","version":1,"seed":"x","size":2}\n{"nhsNumber":"9990000000","familyName":"Secretname"}\n');
    const error = await loadDirectory(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PopulationFileError);
    expect((error as PopulationFileError).line).toBe(2);
    expect((error as Error).message).not.toMatch(/Secretname|9990000000/);

    const notMetadata = path.join(dir, 'no-metadata.jsonl');
    await writeFile(notMetadata, 'hello\n');
    await expect(loadDirectory(notMetadata)).rejects.toMatchObject({ name: 'PopulationFileError', line: 1 });
  });
});
