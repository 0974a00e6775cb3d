/**
 * Names for synthetic people: common UK family and given names plus the shapes that break naive
 * code — apostrophes (O'Brien, D'Souza), hyphens (Smith-Jones), spaces (Ní Bhriain, Van der Berg)
 * and accents (Zoë, Siân, Seán, Chloé) — so every stage from CSV to XML meets them.
 */

import type { SexCode } from '../../domain/demographics.js';
import type { Rng } from './prng.js';

export const FAMILY_NAMES: readonly string[] = [
  'Smith', 'Jones', 'Williams', 'Taylor', 'Brown', 'Davies', 'Evans', 'Wilson', 'Thomas', 'Johnson',
  'Roberts', 'Robinson', 'Thompson', 'Wright', 'Walker', 'White', 'Edwards', 'Hughes', 'Green', 'Hall',
  'Lewis', 'Harris', 'Clarke', 'Patel', 'Jackson', 'Wood', 'Turner', 'Martin', 'Cooper', 'Hill',
  'Ward', 'Morris', 'Moore', 'Clark', 'Lee', 'King', 'Baker', 'Harrison', 'Morgan', 'Allen',
  'James', 'Scott', 'Phillips', 'Watson', 'Davis', 'Parker', 'Price', 'Bennett', 'Young', 'Griffiths',
  'Mitchell', 'Kelly', 'Cook', 'Carter', 'Richardson', 'Bailey', 'Collins', 'Bell', 'Shaw', 'Murphy',
  'Miller', 'Cox', 'Richards', 'Khan', 'Marshall', 'Anderson', 'Simpson', 'Ellis', 'Adams', 'Singh',
  'Begum', 'Wilkinson', 'Foster', 'Chapman', 'Powell', 'Webb', 'Rogers', 'Gray', 'Mason', 'Ali',
  'Hunt', 'Hussain', 'Campbell', 'Matthews', 'Owen', 'Palmer', 'Holmes', 'Mills', 'Barnes', 'Knight',
  'Lloyd', 'Butler', 'Russell', 'Barker', 'Fisher', 'Stevens', 'Jenkins', 'Murray', 'Dixon', 'Harvey',
  'Graham', 'Pearson', 'Ahmed', 'Fletcher', 'Walsh', 'Kaur', 'Gibson', 'Howard', 'Andrews', 'Stewart',
  'Elliott', 'Reynolds', 'Saunders', 'Payne', 'Fox', 'Ford', 'Pearce', 'Day', 'Brooks', 'West',
  'Lawrence', 'Cole', 'Atkinson', 'Bradley', 'Spencer', 'Gill', 'Dawson', 'Ball', 'Burton', 'Grant',
  'Nguyen', 'Kowalski', 'Nowak', 'Okafor', 'Adeyemi', 'Mensah', 'Chen', 'Wong', 'Rahman', 'Sharma',
  'MacLeod', 'McDonald', 'MacKenzie', 'McLaughlin', 'Ó Súilleabháin', 'Ní Bhriain', 'Van der Berg', 'de la Cruz',
  "O'Brien", "O'Connor", "O'Neill", "D'Souza", "D'Arcy", "O'Sullivan",
  'Smith-Jones', 'Hamilton-Smythe', 'Owusu-Ansah', 'Lloyd-Webber', 'Rees-Mogg', 'Bowes-Lyon',
  'Müller', 'Brontë', 'Núñez', 'Łukasik',
];

const MALE_GIVEN_NAMES: readonly string[] = [
  'Oliver', 'George', 'Harry', 'Jack', 'Jacob', 'Noah', 'Charlie', 'Muhammad', 'Thomas', 'Oscar',
  'William', 'James', 'Leo', 'Alfie', 'Henry', 'Joshua', 'Freddie', 'Archie', 'Ethan', 'Isaac',
  'Alexander', 'Joseph', 'Edward', 'Samuel', 'Max', 'Daniel', 'Arthur', 'Lucas', 'Mohammed', 'Logan',
  'David', 'John', 'Michael', 'Paul', 'Andrew', 'Peter', 'Robert', 'Richard', 'Mark', 'Stephen',
  'Christopher', 'Anthony', 'Kevin', 'Gary', 'Ian', 'Alan', 'Keith', 'Colin', 'Derek', 'Raymond',
  'Dafydd', 'Rhys', 'Gethin', 'Callum', 'Ewan', 'Hamish', 'Ciarán', 'Seán', 'Eoin', 'Pádraig',
  'Oisín', 'Rónán', 'José', 'Jérôme', 'François', 'Aarav', 'Arjun', 'Kwame', 'Chukwuemeka', 'Piotr',
];

const FEMALE_GIVEN_NAMES: readonly string[] = [
  'Olivia', 'Amelia', 'Isla', 'Ava', 'Emily', 'Sophia', 'Grace', 'Mia', 'Poppy', 'Ella',
  'Lily', 'Evie', 'Isabella', 'Sophie', 'Ivy', 'Freya', 'Harper', 'Willow', 'Charlotte', 'Jessica',
  'Margaret', 'Susan', 'Patricia', 'Elizabeth', 'Mary', 'Sarah', 'Karen', 'Julie', 'Helen', 'Claire',
  'Emma', 'Rebecca', 'Laura', 'Rachel', 'Hannah', 'Lucy', 'Katherine', 'Joanne', 'Nicola', 'Alison',
  'Bethan', 'Ffion', 'Cerys', 'Eilidh', 'Morag', 'Aoife', 'Niamh', 'Siobhán', 'Saoirse', 'Róisín',
  'Siân', 'Zoë', 'Chloé', 'Renée', 'Anaïs', 'Noémie', 'Priya', 'Aisha', 'Fatima', 'Amara',
  'Ngozi', 'Agnieszka', 'Zofia', 'Mei', 'Anne-Marie', 'Mary-Jane', 'Lily-Rose', 'Jo', 'Bo', 'Ana',
];

const UNISEX_GIVEN_NAMES: readonly string[] = [
  'Alex', 'Sam', 'Charlie', 'Jordan', 'Robin', 'Morgan', 'Jamie', 'Taylor', 'Rowan', 'Eden',
  'Ashley', 'Casey', 'Frankie', 'Riley', 'Sasha', 'Jude',
];

export function givenNamesFor(sex: SexCode): readonly string[] {
  if (sex === '1') return MALE_GIVEN_NAMES;
  if (sex === '2') return FEMALE_GIVEN_NAMES;
  return UNISEX_GIVEN_NAMES;
}

/** HL7 sex codes weighted as in a general population: PDS holds few 0 (not known) and 9 (not specified). */
export function drawSex(rng: Rng): SexCode {
  const u = rng.next();
  if (u < 0.49) return '1';
  if (u < 0.98) return '2';
  if (u < 0.99) return '9';
  return '0';
}

export interface DrawnNames {
  sex: SexCode;
  givenNames: string[];
  familyName: string;
}

/** Sex, one or two given names (PDS returns at most two, SPEC §5.5) and a family name. */
export function drawNames(rng: Rng): DrawnNames {
  const sex = drawSex(rng);
  const pool = givenNamesFor(sex);
  const first = rng.pick(pool);
  const givenNames = [first];
  if (rng.chance(0.4)) {
    const second = rng.pick(pool);
    if (second !== first) givenNames.push(second);
  }
  return { sex, givenNames, familyName: rng.pick(FAMILY_NAMES) };
}

/** A title consistent with sex and age; some records carry none, as in PDS. */
export function drawTitle(rng: Rng, sex: SexCode, ageYears: number): string | undefined {
  if (rng.chance(0.1)) return undefined;
  if (ageYears >= 25 && rng.chance(0.03)) return 'Dr';
  if (sex === '1') return ageYears < 16 ? 'Master' : 'Mr';
  if (sex === '2') return ageYears < 16 ? 'Miss' : rng.pick(['Mrs', 'Ms', 'Miss']);
  return ageYears < 16 ? undefined : 'Mx';
}
