/**
 * Telecoms and GP practices for synthetic people. Telephone numbers come from Ofcom's ranges
 * reserved for drama (01632 960xxx, 07700 900xxx) and e-mail addresses from RFC 2606 domains, so
 * none can reach anybody.
 */

import type { GpPractice, PdsTelecom } from '../../domain/demographics.js';
import type { Rng } from './prng.js';

const PRACTICE_NAMES: readonly string[] = [
  'The Willows Surgery', 'Riverside Medical Centre', 'Park Lane Practice', 'Castle Health Centre',
  'Meadowbank Surgery', 'The Green Medical Practice', 'Abbey Road Surgery', 'Orchard Family Practice',
];

function emailLocalPart(familyName: string, givenName: string): string {
  // Keep only ASCII letters: e-mail local parts in PDS are plain, whatever the name looks like.
  const clean = (s: string) => s.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase();
  return `${clean(givenName) || 'patient'}.${clean(familyName) || 'record'}`;
}

/** Home telephone, mobile and e-mail, each present for some people (uses as seen in SPEC §5.5). */
export function drawTelecoms(rng: Rng, familyName: string, givenName: string): PdsTelecom[] {
  const telecoms: PdsTelecom[] = [];
  if (rng.chance(0.6)) telecoms.push({ use: 'H', value: `tel:01632960${String(rng.int(1000)).padStart(3, '0')}` });
  if (rng.chance(0.7)) telecoms.push({ use: 'MC', value: `tel:07700900${String(rng.int(1000)).padStart(3, '0')}` });
  if (rng.chance(0.35)) {
    const domain = rng.pick(['example.org', 'example.com', 'example.net']);
    telecoms.push({ use: 'HP', value: `mailto:${emailLocalPart(familyName, givenName)}${rng.int(100)}@${domain}` });
  }
  return telecoms;
}

/** A practice with an ODS-shaped code (letter, then five digits, like A81001) and a plausible name. */
export function drawGpPractice(rng: Rng): GpPractice {
  const letter = 'ABCDEFGHJKLMNP'[rng.int(14)]!;
  return {
    odsCode: `${letter}8${String(rng.int(10_000)).padStart(4, '0')}`,
    name: rng.pick(PRACTICE_NAMES),
  };
}
