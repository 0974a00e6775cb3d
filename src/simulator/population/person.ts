/**
 * One synthetic PDS record, generated from its index alone. A record holds everything PDS holds
 * (sensitive people included: redaction happens when answering, as PDS does, SPEC §7).
 */

import type { GpPractice, PdsAddress, PdsDate, PdsTelecom, SexCode } from '../../domain/demographics.js';
import { drawAddress, noFixedAbodeAddress } from './addresses.js';
import { dayToPdsDate, REFERENCE_DAY, type BirthDateLayout } from './birth-dates.js';
import { drawGpPractice, drawTelecoms } from './contacts.js';
import { drawNames, drawTitle } from './names.js';
import type { NhsNumberLayout } from './nhs-numbers.js';
import { Rng, STREAMS } from './prng.js';
import type { PopulationStructure, RecordStatus } from './structure.js';

export interface SyntheticPerson {
  nhsNumber: string;
  record: RecordStatus;
  /** For a superseded record: the NHS number that replaced it. */
  supersededBy?: string;
  title?: string;
  givenNames: string[];
  familyName: string;
  sex: SexCode;
  /** YYYYMMDD, or YYYY / YYYYMM for the few people PDS holds a partial date for. */
  dateOfBirth: PdsDate;
  dateOfDeath?: PdsDate;
  addresses: PdsAddress[];
  telecoms: PdsTelecom[];
  gpPractice?: GpPractice;
  /** S-flag: PDS withholds address, contact and GP details in its answers. */
  sensitive: boolean;
}

/** What a demographic search compares before it needs the whole record. */
export type PersonCore = Pick<SyntheticPerson, 'familyName' | 'givenNames' | 'sex' | 'dateOfBirth'>;

const SENSITIVE_RATE = 0.005;
const NO_FIXED_ABODE_RATE = 0.003;
const TEMPORARY_ADDRESS_RATE = 0.03;
const CORRESPONDENCE_ADDRESS_RATE = 0.02;
const UNREGISTERED_RATE = 0.02;
const DAYS_PER_YEAR = 365.25;

/** Chance of a death recorded by the reference day, rising with age. */
function deathRate(ageYears: number): number {
  if (ageYears >= 85) return 0.25;
  if (ageYears >= 70) return 0.06;
  if (ageYears >= 50) return 0.015;
  return 0.002;
}

export interface PersonGenerator {
  core(index: number): PersonCore;
  person(index: number): SyntheticPerson;
}

export function createPersonGenerator(
  seedHash: number,
  numbers: NhsNumberLayout,
  births: BirthDateLayout,
  structure: PopulationStructure,
): PersonGenerator {
  // Near-twins take their names from the group's leader and, when they share a household, its address.
  const nameSource = (index: number) => structure.twinGroupOf(index)?.members[0] ?? index;
  const householdSource = (index: number) => {
    const group = structure.twinGroupOf(index);
    return group?.sharedHousehold ? group.members[0]! : index;
  };

  const dateOfBirth = (index: number): PdsDate => {
    const full = dayToPdsDate(births.birthDayOf(index));
    return full.slice(0, structure.partialBirthDatePrecision(index) ?? 8);
  };

  const core = (index: number): PersonCore => {
    const source = structure.demographicSourceOf(index);
    const { sex, givenNames, familyName } = drawNames(new Rng(seedHash, nameSource(source), STREAMS.names));
    return { familyName, givenNames, sex, dateOfBirth: dateOfBirth(source) };
  };

  const addresses = (index: number): PdsAddress[] => {
    const rng = new Rng(seedHash, householdSource(index), STREAMS.address);
    const home = rng.chance(NO_FIXED_ABODE_RATE) ? noFixedAbodeAddress(rng) : drawAddress(rng, 'H');
    const list = [home];
    if (rng.chance(TEMPORARY_ADDRESS_RATE)) list.push(drawAddress(rng, 'TMP'));
    if (rng.chance(CORRESPONDENCE_ADDRESS_RATE)) list.push(drawAddress(rng, 'PST'));
    return list;
  };

  return {
    core,
    person(index) {
      const source = structure.demographicSourceOf(index);
      const base = core(index);
      const birthDay = births.birthDayOf(source);
      const ageYears = (REFERENCE_DAY - birthDay) / DAYS_PER_YEAR;
      const care = new Rng(seedHash, source, STREAMS.care);
      const title = drawTitle(care, base.sex, ageYears);
      const deceased = care.chance(deathRate(ageYears));
      const sensitive = care.chance(SENSITIVE_RATE);
      const registered = !deceased && !care.chance(UNREGISTERED_RATE);
      const gpPractice = registered ? drawGpPractice(care) : undefined;
      let dateOfDeath: PdsDate | undefined;
      if (deceased) {
        const earliest = Math.max(birthDay + 1, REFERENCE_DAY - 20 * DAYS_PER_YEAR);
        const day = Math.floor(earliest + care.next() * (REFERENCE_DAY - earliest));
        // PDS may hold a death date to the year only (`2010` in a TKW sample, SPEC §5.5).
        dateOfDeath = dayToPdsDate(day).slice(0, care.chance(0.1) ? 4 : 8);
      }
      const contact = new Rng(seedHash, source, STREAMS.contact);
      const telecoms = deceased ? [] : drawTelecoms(contact, base.familyName, base.givenNames[0] ?? '');
      const status = structure.statusOf(index);
      const replacement = structure.replacementOf(index);
      return {
        nhsNumber: numbers.numberOf(index),
        record: status,
        ...(replacement === undefined ? {} : { supersededBy: numbers.numberOf(replacement) }),
        ...(title === undefined ? {} : { title }),
        ...base,
        ...(dateOfDeath === undefined ? {} : { dateOfDeath }),
        addresses: addresses(source),
        telecoms,
        ...(gpPractice === undefined ? {} : { gpPractice }),
        sensitive,
      };
    },
  };
}
