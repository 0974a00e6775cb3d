import type { PdsDate, PdsPatient, SexCode } from '../domain/demographics.js';
import { DISCREPANCY_FIELDS, type Discrepancy, type DiscrepancyField } from '../domain/findings.js';
import { addressText, homeAddress, isoDateFromPds } from '../csv/output/patient-fields.js';

/**
 * Where a traced row's local details differ from what PDS returned (MSCA-DQ-06: "trigger a
 * back-office resolution process where local discrepancies with PDS are detected"; SMSP cannot
 * update PDS, so the local record is what the back office corrects, or PDS through full access).
 *
 * Compared sensibly, so that only a difference a person would act on is reported:
 * - names: case, repeated spaces, spaces around hyphens and apostrophes, and curly apostrophes do
 *   not count; accents and spelling do. A local given name agrees when it is PDS's first given name
 *   or all of them in order. A local value with a wildcard (`SMI*`) is a search pattern, not a
 *   claim, and is not compared.
 * - date of birth: at the lower precision of the two, as PDS matches (SPEC §4.4): 1980-07 agrees
 *   with 1980-07-04.
 * - sex: the HL7 codes (0/1/2/9) must be equal; a local "not known" against a PDS male is worth
 *   correcting locally.
 * - postcode: spaces and case do not count.
 * - address: lines are split at commas, stripped of full stops and repeated spaces and compared
 *   case-insensitively; the local pieces must appear in PDS's home address in the same order, so
 *   a local extract that keeps fewer lines (no county) or splits them differently agrees, while a
 *   different street does not. A local line holding PDS's postcode is left out of the comparison.
 * - postcode, address and GP practice are not compared when PDS withheld them (S-flag, SPEC §7)
 *   or returned no home address: there is nothing to compare with.
 * - date of death: compared only when the file has a date-of-death column. Then a PDS date the
 *   local cell does not hold (an empty cell included), or a local date PDS does not hold, is a
 *   difference. Without a column there is no local claim to differ from: a PDS date of death is
 *   then its own finding (the `pds_date_of_death` flag, row-quality.ts), not a discrepancy.
 * - GP practice: compared only when the file has a GP practice column. Almost every patient has
 *   one on PDS, so without a local column every row would be reported and the flag would mean
 *   nothing.
 * Values that are absent locally (an empty cell) are not claims and are not compared, except for
 * date of death and GP practice as above; a field the file has no column for is never compared.
 */

/**
 * The local record of one row as far as the file holds it: normalised query values, and the
 * fields the query has no place for. For `addressLines`, `dateOfDeath` and `gpPracticeCode`,
 * undefined means the file has no such column and an empty string an empty cell.
 */
export interface LocalDemographics {
  familyName?: string;
  givenName?: string;
  dateOfBirth?: PdsDate;
  sex?: SexCode;
  postcode?: string;
  addressLines?: readonly string[];
  /** A PDS-form date (YYYY[MM[DD]]) when the cell could be read as one, else the cell's text. */
  dateOfDeath?: string;
  gpPracticeCode?: string;
}

const isPattern = (value: string) => value.includes('*');

function nameKey(value: string): string {
  return value
    .normalize('NFC')
    .replace(/[\u2018\u2019`]/g, "'")
    .toUpperCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*([-'])\s*/g, '$1');
}

const postcodeKey = (value: string) => value.replace(/\s+/g, '').toUpperCase();

function addressPieces(lines: readonly string[]): string[] {
  return lines
    .flatMap((line) => line.split(','))
    .map((piece) => piece.normalize('NFC').toUpperCase().replace(/\./g, '').replace(/\s+/g, ' ').trim())
    .filter((piece) => piece.length > 0);
}

function isSubsequence(part: readonly string[], whole: readonly string[]): boolean {
  let at = 0;
  for (const piece of whole) if (at < part.length && piece === part[at]) at++;
  return at === part.length;
}

const PDS_DATE_FORM = /^\d{4}(\d{2}){0,2}$/;

/** Dates agree at the lower precision of the two (SPEC §4.4); text that is not a date agrees with nothing. */
function datesAgree(a: string, b: string): boolean {
  const x = a.slice(0, 8);
  const y = b.slice(0, 8);
  if (!PDS_DATE_FORM.test(x) || !PDS_DATE_FORM.test(y)) return false;
  const precision = Math.min(x.length, y.length);
  return x.slice(0, precision) === y.slice(0, precision);
}

const present = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

function differ(field: DiscrepancyField, local: string | undefined, pds: string | undefined): Discrepancy {
  return { field, ...(present(local) ? { local } : {}), ...(present(pds) ? { pds } : {}) };
}

type Comparison = (local: LocalDemographics, patient: PdsPatient) => Discrepancy | undefined;

const COMPARISONS: Readonly<Record<DiscrepancyField, Comparison>> = {
  family_name(local, patient) {
    const [mine, theirs] = [local.familyName, patient.familyName];
    if (!present(mine) || isPattern(mine) || !present(theirs)) return undefined;
    return nameKey(mine) === nameKey(theirs) ? undefined : differ('family_name', mine, theirs);
  },
  given_name(local, patient) {
    const mine = local.givenName;
    const theirs = patient.givenNames.filter(present);
    if (!present(mine) || isPattern(mine) || theirs.length === 0) return undefined;
    const key = nameKey(mine);
    if (key === nameKey(theirs[0]!) || key === nameKey(theirs.join(' '))) return undefined;
    return differ('given_name', mine, theirs.join(' '));
  },
  date_of_birth(local, patient) {
    const [mine, theirs] = [local.dateOfBirth, patient.dateOfBirth];
    if (!present(mine) || !present(theirs) || datesAgree(mine, theirs)) return undefined;
    return differ('date_of_birth', isoDateFromPds(mine), isoDateFromPds(theirs));
  },
  sex(local, patient) {
    const [mine, theirs] = [local.sex, patient.sex];
    if (mine === undefined || theirs === undefined || mine === theirs) return undefined;
    return differ('sex', mine, theirs);
  },
  postcode(local, patient) {
    const mine = local.postcode;
    const theirs = patient.sensitive ? undefined : homeAddress(patient)?.postcode;
    if (!present(mine) || isPattern(mine) || !present(theirs)) return undefined;
    return postcodeKey(mine) === postcodeKey(theirs) ? undefined : differ('postcode', mine, theirs);
  },
  address(local, patient) {
    const home = patient.sensitive ? undefined : homeAddress(patient);
    const theirs = addressPieces(home?.lines ?? []);
    const postcode = home?.postcode ? postcodeKey(home.postcode) : undefined;
    // Local extracts often end the address with the postcode; PDS keeps it apart.
    const mine = addressPieces(local.addressLines ?? []).filter((piece) => postcodeKey(piece) !== postcode);
    if (mine.length === 0 || theirs.length === 0 || isSubsequence(mine, theirs)) return undefined;
    return differ('address', (local.addressLines ?? []).map((line) => line.trim()).filter(Boolean).join(', '), addressText(home));
  },
  date_of_death(local, patient) {
    const mine = local.dateOfDeath;
    const theirs = patient.dateOfDeath;
    if (mine === undefined) return undefined;
    if (!present(mine) && !present(theirs)) return undefined;
    if (present(mine) && present(theirs) && datesAgree(mine, theirs)) return undefined;
    return differ('date_of_death', present(mine) ? isoDateFromPds(mine) : undefined, present(theirs) ? isoDateFromPds(theirs) : undefined);
  },
  gp_practice(local, patient) {
    const mine = local.gpPracticeCode;
    if (mine === undefined || patient.sensitive) return undefined;
    const theirs = patient.gpPractice?.odsCode;
    if (!present(mine) && !present(theirs)) return undefined;
    if (present(mine) && present(theirs) && mine.trim().toUpperCase() === theirs.trim().toUpperCase()) return undefined;
    return differ('gp_practice', mine.trim(), theirs);
  },
};

/** Every difference between a row's local details and the PDS record returned for it, in field order. */
export function compareWithPds(local: LocalDemographics, patient: PdsPatient): Discrepancy[] {
  return DISCREPANCY_FIELDS.map((field) => COMPARISONS[field](local, patient)).filter((d): d is Discrepancy => d !== undefined);
}
