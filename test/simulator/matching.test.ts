import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import type { PatientQuery } from '../../src/domain/demographics.js';
import { isValidNhsNumber } from '../../src/domain/nhs-number.js';
import { createDirectory } from '../../src/simulator/directory.js';
import { datesAgree, postcodeMatches, textMatches } from '../../src/simulator/matching.js';
import type { SyntheticPerson } from '../../src/simulator/population/person.js';
import { createPopulation } from '../../src/simulator/population/population.js';

const OPTIONS = { seed: 'matching', size: 20_000 };
const population = createPopulation(OPTIONS);
const directory = createDirectory(OPTIONS);

function findIndex(wanted: (index: number, person: SyntheticPerson) => boolean): number {
  for (let index = 0; index < population.size; index++) if (wanted(index, population.person(index))) return index;
  throw new Error('no person in the test population fits');
}

const isPlainLive = (index: number, p: SyntheticPerson) =>
  p.record === 'live' && p.dateOfBirth.length === 8 && !p.sensitive && population.structure.twinGroupOf(index) === undefined;

/** A live, non-twin person whose full search (names, sex, birth date, postcode) finds only them. */
const plainIndex = findIndex(
  (i, p) => isPlainLive(i, p) && p.givenNames.length === 2 && directory.answer('getNHSNumber', searchOf(p)).responseCode === 'SMSP-0000',
);
const plain = population.person(plainIndex);

function searchOf(p: SyntheticPerson): PatientQuery {
  return { familyName: p.familyName, givenName: p.givenNames[0], sex: p.sex, dateOfBirth: p.dateOfBirth, postcode: p.addresses[0]!.postcode };
}

function verifyOf(p: SyntheticPerson): PatientQuery {
  return { nhsNumber: p.nhsNumber, dateOfBirth: p.dateOfBirth, familyName: p.familyName, givenName: p.givenNames[0] };
}

describe('NHS number interactions (cross-check, SPEC §7)', () => {
  it('verifies a number whose birth date and names agree: SMSP-0000, verified, the number, no details', () => {
    expect(directory.answer('verifyNHSNumber', verifyOf(plain))).toEqual({ responseCode: 'SMSP-0000', verified: true, nhsNumber: plain.nhsNumber });
  });

  it('returns the details for getPatientDetailsByNHSNumber and getPatientDetails with a number', () => {
    for (const interaction of ['getPatientDetailsByNHSNumber', 'getPatientDetails'] as const) {
      const answer = directory.answer(interaction, { ...verifyOf(plain), localId: 'LOCAL-1' });
      expect(answer.responseCode).toBe('SMSP-0000');
      expect(answer.nhsNumber).toBe(plain.nhsNumber);
      expect(answer.localId).toBe('LOCAL-1');
      expect(answer.patient).toMatchObject({
        nhsNumber: plain.nhsNumber,
        familyName: plain.familyName,
        givenNames: plain.givenNames,
        sex: plain.sex,
        dateOfBirth: plain.dateOfBirth,
        addresses: plain.addresses,
      });
      expect(answer.patient?.sensitive).toBeUndefined();
    }
  });

  it('answers DEMOG-0042 for anything but a valid ten-digit Modulus 11 number', () => {
    const badCheck = `${plain.nhsNumber.slice(0, 9)}${(Number(plain.nhsNumber[9]) + 1) % 10}`;
    for (const nhsNumber of ['12345', 'ABCDEFGHIJ', badCheck, '']) {
      expect(directory.answer('verifyNHSNumber', { nhsNumber, dateOfBirth: plain.dateOfBirth }).responseCode).toBe('DEMOG-0042');
    }
  });

  it('answers DEMOG-0001 for a valid number nobody holds', () => {
    const unissued = population.numbers.numberOf(population.size + 5);
    for (const nhsNumber of [unissued, '9449310467']) {
      expect(isValidNhsNumber(nhsNumber)).toBe(true);
      expect(directory.answer('getPatientDetailsByNHSNumber', { nhsNumber, dateOfBirth: '19800101' })).toEqual({ responseCode: 'DEMOG-0001' });
    }
  });

  it('answers DEMOG-0017 for a superseded number, with the replacement number and its details', () => {
    const old = population.person(findIndex((_, p) => p.record === 'superseded'));
    const replacement = population.person(population.indexOf(old.supersededBy!)!);
    const details = directory.answer('getPatientDetailsByNHSNumber', { nhsNumber: old.nhsNumber, dateOfBirth: old.dateOfBirth, localId: 'L9' });
    expect(details.responseCode).toBe('DEMOG-0017');
    expect(details.nhsNumber).toBe(replacement.nhsNumber);
    expect(details.patient?.nhsNumber).toBe(replacement.nhsNumber);
    expect(details.localId).toBe('L9');
    expect(directory.answer('verifyNHSNumber', { nhsNumber: old.nhsNumber, dateOfBirth: old.dateOfBirth })).toEqual({
      responseCode: 'DEMOG-0017',
      nhsNumber: replacement.nhsNumber,
    });
  });

  it('answers DEMOG-0022 for an invalidated number', () => {
    const dead = population.person(findIndex((_, p) => p.record === 'invalidated'));
    expect(directory.answer('verifyNHSNumber', verifyOf(dead))).toEqual({ responseCode: 'DEMOG-0022' });
    expect(directory.answer('getPatientDetails', { ...verifyOf(dead), localId: 'L' })).toEqual({ responseCode: 'DEMOG-0022' });
  });

  it('answers DEMOG-0040 when the birth date, family name or given name does not agree', () => {
    const otherYear = `${Number(plain.dateOfBirth.slice(0, 4)) - 1}${plain.dateOfBirth.slice(4)}`;
    const cases: PatientQuery[] = [
      { ...verifyOf(plain), dateOfBirth: otherYear },
      { ...verifyOf(plain), familyName: `${plain.familyName}x` },
      { ...verifyOf(plain), givenName: 'Nobodyname' },
      // Wildcards belong to searches only (SPEC §4.4): a cross-check compares literally.
      { ...verifyOf(plain), familyName: `${plain.familyName.slice(0, 3)}*` },
    ];
    for (const query of cases) {
      expect(directory.answer('verifyNHSNumber', query)).toEqual({ responseCode: 'DEMOG-0040' });
      expect(directory.answer('getPatientDetailsByNHSNumber', { ...query, localId: 'L' })).toEqual({ responseCode: 'DEMOG-0040' });
    }
  });

  it('verifies with names in any case, the second given name, no names at all, or a partial birth date', () => {
    const cases: PatientQuery[] = [
      { ...verifyOf(plain), familyName: plain.familyName.toUpperCase(), givenName: plain.givenNames[0]!.toLowerCase() },
      { ...verifyOf(plain), givenName: plain.givenNames[1] },
      { nhsNumber: plain.nhsNumber, dateOfBirth: plain.dateOfBirth },
      { nhsNumber: plain.nhsNumber, dateOfBirth: plain.dateOfBirth.slice(0, 6) },
    ];
    for (const query of cases) expect(directory.answer('verifyNHSNumber', query).verified).toBe(true);
  });

  it('compares a full query date with a partial date PDS holds at the lower precision', () => {
    const partial = population.person(findIndex((_, p) => p.record === 'live' && p.dateOfBirth.length === 4));
    const sameYear = `${partial.dateOfBirth}0615`;
    const otherYear = `${Number(partial.dateOfBirth) + 1}0615`;
    expect(directory.answer('verifyNHSNumber', { nhsNumber: partial.nhsNumber, dateOfBirth: sameYear }).responseCode).toBe('SMSP-0000');
    expect(directory.answer('verifyNHSNumber', { nhsNumber: partial.nhsNumber, dateOfBirth: otherYear }).responseCode).toBe('DEMOG-0040');
    const search = { familyName: partial.familyName, givenName: partial.givenNames[0], sex: partial.sex, dateOfBirth: sameYear };
    expect(directory.answer('getNHSNumber', { ...search, postcode: partial.addresses[0]!.postcode })).toEqual({
      responseCode: 'SMSP-0000',
      nhsNumber: partial.nhsNumber,
    });
  });
});

describe('demographic searches (single, unique, exact match, SPEC §7)', () => {
  it('returns only the number for getNHSNumber, and the details for getPatientDetailsBySearch / getPatientDetails', () => {
    expect(directory.answer('getNHSNumber', searchOf(plain))).toEqual({ responseCode: 'SMSP-0000', nhsNumber: plain.nhsNumber });
    for (const interaction of ['getPatientDetailsBySearch', 'getPatientDetails'] as const) {
      const answer = directory.answer(interaction, searchOf(plain));
      expect(answer.nhsNumber).toBe(plain.nhsNumber);
      expect(answer.patient?.nhsNumber).toBe(plain.nhsNumber);
    }
  });

  it('echoes the local identifier when the answer carries a subject, and not otherwise', () => {
    expect(directory.answer('getNHSNumber', { ...searchOf(plain), localId: 'RXX:00001' }).localId).toBe('RXX:00001');
    expect(directory.answer('getNHSNumber', { ...searchOf(plain), dateOfBirth: '18990101', localId: 'RXX:00001' })).toEqual({
      responseCode: 'DEMOG-0001',
    });
  });

  it('answers DEMOG-0001 when nobody matches', () => {
    const misses: PatientQuery[] = [
      { ...searchOf(plain), familyName: 'Nobodyfamily' },
      { ...searchOf(plain), sex: plain.sex === '1' ? '2' : '1' },
      { ...searchOf(plain), postcode: 'AA1 1AA' },
      { ...searchOf(plain), givenName: 'Nobodyname' },
    ];
    for (const query of misses) expect(directory.answer('getNHSNumber', query)).toEqual({ responseCode: 'DEMOG-0001' });
  });

  it('needs family name, sex and birth date to trace at all', () => {
    const { familyName: _f, ...noFamily } = searchOf(plain);
    const { sex: _s, ...noSex } = searchOf(plain);
    expect(directory.answer('getPatientDetails', noFamily).responseCode).toBe('DEMOG-0001');
    expect(directory.answer('getPatientDetails', noSex).responseCode).toBe('DEMOG-0001');
  });

  it('answers DEMOG-0007 for near-twins, and a postcode tells apart twins who live apart', () => {
    const apart = findIndex((i) => {
      const group = population.structure.twinGroupOf(i);
      return group !== undefined && group.members[0] === i && !group.sharedHousehold;
    });
    const twin = population.person(apart);
    const { postcode: _p, ...withoutPostcode } = searchOf(twin);
    expect(directory.answer('getNHSNumber', withoutPostcode)).toEqual({ responseCode: 'DEMOG-0007' });
    expect(directory.answer('getNHSNumber', searchOf(twin))).toEqual({ responseCode: 'SMSP-0000', nhsNumber: twin.nhsNumber });

    const together = population.person(
      findIndex((i) => population.structure.twinGroupOf(i)?.sharedHousehold === true && population.structure.twinGroupOf(i)!.members[0] === i),
    );
    expect(directory.answer('getPatientDetailsBySearch', searchOf(together))).toEqual({ responseCode: 'DEMOG-0007' });
  });

  it('does not find superseded or invalidated records by search', () => {
    for (const record of ['superseded', 'invalidated'] as const) {
      const p = population.person(findIndex((_, q) => q.record === record));
      const answer = directory.answer('getNHSNumber', searchOf(p));
      expect(answer.nhsNumber).not.toBe(p.nhsNumber);
    }
  });

  it('matches names case-insensitively, accents included', () => {
    const query = { ...searchOf(plain), familyName: plain.familyName.toUpperCase(), givenName: plain.givenNames[0]!.toLowerCase() };
    expect(directory.answer('getNHSNumber', query).nhsNumber).toBe(plain.nhsNumber);
    expect(textMatches('Zoë', 'ZOË', false)).toBe(true);
    expect(textMatches("O'Brien", "o'brien", false)).toBe(true);
    // NFC and NFD spellings of one name are one name.
    expect(textMatches('Siân', 'Sia\u0302n', false)).toBe(true);
  });

  it('takes a trailing * after at least two characters in family name, given name and postcode', () => {
    const postcode = plain.addresses[0]!.postcode!;
    const wild = {
      ...searchOf(plain),
      familyName: `${plain.familyName.slice(0, 2)}*`,
      givenName: `${plain.givenNames[0]!.slice(0, 2)}*`,
      postcode: `${postcode.split(' ')[0]}*`,
    };
    const answer = directory.answer('getNHSNumber', wild);
    // A wildcard widens the search: the person is found unless someone else now matches too.
    expect(['SMSP-0000', 'DEMOG-0007']).toContain(answer.responseCode);
    if (answer.responseCode === 'SMSP-0000') expect(answer.nhsNumber).toBe(plain.nhsNumber);
    expect(directory.answer('getNHSNumber', { ...searchOf(plain), familyName: `${plain.familyName}*` }).nhsNumber).toBe(plain.nhsNumber);
    expect(textMatches('Smith-Jones', 'SM*', true)).toBe(true);
    expect(textMatches('Smith', 'S*', true)).toBe(false);
    expect(textMatches('Smith', '*', true)).toBe(false);
    expect(textMatches('Smith', 'S*h', true)).toBe(false);
    expect(textMatches('Smith', 'SM*', false)).toBe(false);
    expect(postcodeMatches('AD1 6ER', 'ad1*')).toBe(true);
    expect(postcodeMatches('AD1 6ER', 'AD16*')).toBe(true);
    expect(postcodeMatches('AD1 6ER', 'A*')).toBe(false);
  });

  test.prop([fc.constantFrom('AD1 6ER', 'RB29 1HZ', 'GC17 5TF'), fc.array(fc.constantFrom('', ' ', '  '), { minLength: 4, maxLength: 8 }), fc.boolean()])(
    'tolerates postcode spacing and case as PDS does',
    (postcode, spaces, lower) => {
      const compact = postcode.replace(' ', '');
      const respaced = [...compact].map((ch, i) => `${spaces[i % spaces.length]}${ch}`).join('');
      expect(postcodeMatches(postcode, lower ? respaced.toLowerCase() : respaced)).toBe(true);
    },
  );

  it('finds a search with a YYYY or YYYYMM birth date among everyone born then', () => {
    const query = { ...searchOf(plain), dateOfBirth: plain.dateOfBirth.slice(0, 6) };
    expect(directory.answer('getNHSNumber', query).nhsNumber).toBe(plain.nhsNumber);
    expect(directory.answer('getNHSNumber', { ...query, dateOfBirth: plain.dateOfBirth.slice(0, 4) }).nhsNumber).toBe(plain.nhsNumber);
    expect(datesAgree('1950', '19500312')).toBe(true);
    expect(datesAgree('195003', '19500312')).toBe(true);
    expect(datesAgree('19500312', '19500313')).toBe(false);
    expect(datesAgree('195004', '1950')).toBe(true);
  });
});

describe('sensitive and deceased people', () => {
  it('returns an S-flagged person without address, telecoms or GP, yet finds them by postcode', () => {
    const index = findIndex((i, p) => p.record === 'live' && p.sensitive && p.dateOfBirth.length === 8 && population.structure.twinGroupOf(i) === undefined);
    const person = population.person(index);
    const answer = directory.answer('getPatientDetailsBySearch', searchOf(person));
    expect(answer.responseCode).toBe('SMSP-0000');
    expect(answer.patient).toMatchObject({ nhsNumber: person.nhsNumber, sensitive: true, addresses: [], telecoms: [] });
    expect(answer.patient?.gpPractice).toBeUndefined();
    expect(answer.patient?.familyName).toBe(person.familyName);
  });

  it('returns a deceased person normally, with the date of death', () => {
    const person = population.person(findIndex((_, p) => p.record === 'live' && p.dateOfDeath !== undefined));
    const answer = directory.answer('getPatientDetailsByNHSNumber', verifyOf(person));
    expect(answer.responseCode).toBe('SMSP-0000');
    expect(answer.patient?.dateOfDeath).toBe(person.dateOfDeath);
  });
});

describe('directory at full size', () => {
  it('answers searches on a 900,000-person directory quickly', () => {
    const big = createPopulation({ seed: 'speed', size: 900_000 });
    const bigDirectory = createDirectory({ seed: 'speed', size: 900_000 });
    const people = Array.from({ length: 200 }, (_, k) => big.person(k * 4_447));
    const started = performance.now();
    for (const p of people) {
      const answer = bigDirectory.answer('getNHSNumber', { familyName: p.familyName, sex: p.sex, dateOfBirth: p.dateOfBirth });
      if (p.record === 'live') expect(['SMSP-0000', 'DEMOG-0007']).toContain(answer.responseCode);
    }
    // About 0.1 ms each on a laptop; the bound is generous for a shared machine.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
