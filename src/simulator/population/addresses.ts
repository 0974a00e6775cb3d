/**
 * Addresses for synthetic people: five street address lines with blanks kept, as PDS sends them
 * (SPEC §5.5, AD.NHS.AddressType2), and postcodes of valid UK shape in postcode areas that do not
 * exist, so no generated address can point at a real place.
 */

import type { PdsAddress } from '../../domain/demographics.js';
import type { Rng } from './prng.js';

/**
 * Well-formed area letters (first letter not Q/V/X, second not I/J/Z) that no real postcode area
 * uses (real ones: AB, AL, B, BA, ... ZE).
 */
const POSTCODE_AREAS: readonly string[] = [
  'AD', 'BG', 'CK', 'DQ', 'EQ', 'FG', 'GC', 'HB', 'JD', 'KC', 'LG', 'MQ', 'NB', 'OE', 'RB', 'SQ', 'TG', 'UE', 'WE', 'YB',
];

/** Letters allowed in the inward unit (the Royal Mail excludes C, I, K, M, O and V there). */
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** The pseudo-postcode PDS records for people of no fixed abode. */
export const NO_FIXED_ABODE_POSTCODE = 'ZZ99 3VZ';

const STREET_NAMES: readonly string[] = [
  'Mill', 'Church', 'Station', 'Victoria', 'Park', 'High', 'Manor', 'Queens', 'Kings', 'Grange',
  'Orchard', 'Meadow', 'Chapel', 'School', 'Brook', 'Willow', 'Elm', 'Beech', 'Ash', 'Oak',
  'Hawthorn', 'Castle', 'Bridge', 'Green', 'York', 'Albert', 'Windsor', 'Springfield', 'St John\'s', 'St Mary\'s',
];
const STREET_KINDS: readonly string[] = ['Road', 'Street', 'Lane', 'Avenue', 'Close', 'Drive', 'Way', 'Gardens', 'Crescent', 'Court'];
const BUILDINGS: readonly string[] = ['Rose Cottage', 'The Old Rectory', 'Flat 2', 'Flat 14', 'Apartment 7', 'Ivy House', 'The Barn'];
const LOCALITIES: readonly string[] = ['Upper Ashby', 'Nether Stowe', 'Little Marsh', 'Westfield', 'Kingsmead', 'Brackley End', 'Holmwood'];
const TOWNS: readonly string[] = [
  'Ashbury', 'Brambleford', 'Cobbleton', 'Dunmere', 'Elmsworth', 'Fenwick Magna', 'Greyhaven', 'Hartlepoole',
  'Ivybridge Parva', 'Kestrel Bay', 'Lynford', 'Marlowe', 'Northam Cross', 'Oakhampstead', 'Penrith Vale', 'Ravensmere',
];
const COUNTIES: readonly string[] = ['Westshire', 'Northmoorshire', 'Eastdale', 'Southfold', 'Midvale', 'Fenland Shire'];

/** A postcode of valid shape (`AA9 9AA` or `AA99 9AA`) in one of the non-existent areas. */
export function drawPostcode(rng: Rng): string {
  const area = rng.pick(POSTCODE_AREAS);
  const district = rng.chance(0.5) ? rng.between(1, 9) : rng.between(10, 29);
  const sector = rng.between(0, 9);
  const unit = `${INWARD_LETTERS[rng.int(INWARD_LETTERS.length)]}${INWARD_LETTERS[rng.int(INWARD_LETTERS.length)]}`;
  return `${area}${district} ${sector}${unit}`;
}

/** Five lines, blanks kept: PDS fills them unevenly, often with an empty first line. */
export function drawAddress(rng: Rng, use: string): PdsAddress {
  const street = `${rng.between(1, 240)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_KINDS)}`;
  const building = rng.chance(0.15) ? rng.pick(BUILDINGS) : '';
  const locality = rng.chance(0.3) ? rng.pick(LOCALITIES) : '';
  const county = rng.chance(0.6) ? rng.pick(COUNTIES) : '';
  return { use, lines: [building, street, locality, rng.pick(TOWNS), county], postcode: drawPostcode(rng) };
}

/** The home address PDS holds for someone of no fixed abode: a town and the ZZ99 pseudo-postcode. */
export function noFixedAbodeAddress(rng: Rng): PdsAddress {
  return { use: 'H', lines: ['', 'No Fixed Abode', '', rng.pick(TOWNS), ''], postcode: NO_FIXED_ABODE_POSTCODE };
}
