/**
 * Which header column holds which field, decided on the header's words (header-words.ts) rather
 * than a list of spellings. A column that could be two fields, or a field that two columns could
 * hold, is reported instead of guessed: a wrong guess traces the wrong person.
 */
import { headerWords } from './header-words.js';
import type { AmbiguousField } from './input-file-error.js';
import type { FieldColumns, FieldName } from './types.js';

/** Fields that change who is traced: a doubtful one rejects the file. */
const PRIMARY_FIELDS = ['nhsNumber', 'dateOfBirth', 'familyName', 'givenName', 'sex', 'postcode'] as const;
type PrimaryField = (typeof PRIMARY_FIELDS)[number];
const ADDRESS_FIELDS = ['address1', 'address2', 'address3', 'address4', 'address5'] as const;

/** Someone other than the patient: the mother's NHS number, the GP's postcode, the next of kin's name. */
const OTHER_PERSON = ['mother', 'father', 'parent', 'guardian', 'carer', 'nok', 'kin', 'contact', 'emergency', 'spouse', 'partner', 'gp', 'doctor', 'practice', 'practitioner', 'clinician', 'consultant', 'referrer'];
/** A value the patient had or may have, not the current one: previous surname, alias, preferred name. */
const NOT_CURRENT = ['old', 'previous', 'prev', 'former', 'prior', 'alias', 'alternative', 'alt', 'maiden', 'other', 'middle', 'second', 'preferred', 'temporary'];
/** Results of an earlier trace fed back in: `PDS NHS Number`, `Traced DOB`, `Matched Surname`. */
const TRACE_OUTPUT = ['traced', 'trace', 'matched', 'match', 'pds', 'spine', 'returned', 'result', 'new', 'verified', 'verification'];
/** Facts about a field rather than the field: `NHS Number Status Indicator`, `DOB Source`. */
const ABOUT_THE_FIELD = ['status', 'indicator', 'flag', 'confidence', 'score', 'source', 'type', 'method', 'count', 'length', 'valid', 'validity', 'check', 'format'];
const NOT_THE_PATIENTS = [...OTHER_PERSON, ...NOT_CURRENT, ...TRACE_OUTPUT, ...ABOUT_THE_FIELD];

interface FieldRule {
  /** The column matches when its words include every word of one of these sets. */
  anyOf: readonly (readonly string[])[];
  /** …and none of these. */
  excludes: readonly string[];
}

const RULES: Readonly<Record<PrimaryField, FieldRule>> = {
  nhsNumber: { anyOf: [['nhs']], excludes: [...NOT_THE_PATIENTS, 'code', 'date', 'trust', 'organisation', 'region'] },
  dateOfBirth: { anyOf: [['date', 'birth']], excludes: [...NOT_THE_PATIENTS, 'death'] },
  familyName: {
    anyOf: [['surname'], ['family', 'name'], ['last', 'name'], ['family']],
    excludes: [...NOT_THE_PATIENTS, 'birth', 'date'],
  },
  givenName: {
    anyOf: [['forename'], ['given', 'name'], ['first', 'name'], ['christian', 'name'], ['given']],
    excludes: [...NOT_THE_PATIENTS, 'birth', 'date'],
  },
  sex: { anyOf: [['sex'], ['gender']], excludes: [...NOT_THE_PATIENTS, 'identity', 'date'] },
  postcode: {
    anyOf: [['postcode'], ['post', 'code'], ['postal', 'code']],
    excludes: [...NOT_THE_PATIENTS, 'date', 'district', 'sector', 'area', 'outward', 'inward'],
  },
};

/**
 * Local ids are named after the system that issued them (`EMIS Number`, `Epic MRN`, `Study ID`,
 * `Hospital No`, `UNIQUE REFERENCE`), so any identifier word will do, once the column is not a
 * primary field and not an identifier of something else (an episode, a phone).
 */
const LOCAL_ID: FieldRule = {
  anyOf: [['id'], ['number'], ['reference'], ['mrn'], ['urn'], ['crn'], ['key']],
  excludes: [
    ...OTHER_PERSON,
    ...TRACE_OUTPUT,
    'nhs', 'phone', 'telephone', 'tel', 'mobile', 'fax', 'email', 'house', 'flat', 'street', 'building',
    'episode', 'encounter', 'appointment', 'referral', 'admission', 'attendance', 'spell', 'visit',
    'order', 'request', 'specimen', 'sample', 'batch', 'ods', 'org', 'organisation', 'site', 'ward',
  ],
};

const ADDRESS: FieldRule = {
  anyOf: [['address'], ['street'], ['road'], ['town'], ['city'], ['county'], ['locality'], ['village']],
  excludes: [...OTHER_PERSON, ...TRACE_OUTPUT, 'email', 'web', 'ip', 'mac', 'date', 'postcode'],
};

export interface ColumnMatch {
  fields: FieldColumns;
  warnings: string[];
  /** Primary fields that more than one column could hold. */
  ambiguous: AmbiguousField[];
}

export function matchColumns(headers: readonly string[]): ColumnMatch {
  const words = headers.map((h) => headerWords(h));
  const fields: FieldColumns = {};
  const warnings: string[] = [];
  const ambiguous: AmbiguousField[] = [];
  const used = new Set<number>();
  const quoted = (columns: number[]) => columns.map((c) => `"${headers[c]}"`).join(', ');

  const candidates = new Map<PrimaryField, number[]>();
  words.forEach((w, column) => {
    const matched = PRIMARY_FIELDS.filter((field) => matches(w, RULES[field]));
    if (matched.length > 1) {
      used.add(column);
      warnings.push(`column "${headers[column]}" could be any of ${matched.join(', ')}, so it is not used; name it with --mapping`);
    } else if (matched.length === 1) {
      const list = candidates.get(matched[0]!) ?? [];
      list.push(column);
      candidates.set(matched[0]!, list);
      used.add(column);
    }
  });
  for (const [field, columns] of candidates) {
    if (columns.length === 1) fields[field] = columns[0]!;
    else ambiguous.push({ field, columns: columns.map((c) => headers[c]!) });
  }

  const localIds = unusedMatching(words, used, LOCAL_ID);
  if (localIds.length === 1) fields.localId = localIds[0]!;
  if (localIds.length > 1) warnings.push(`columns ${quoted(localIds)} could each be the local id, so none is used; name one with --mapping`);
  localIds.forEach((c) => used.add(c));

  warnings.push(...assignAddressLines(words, used, fields, quoted));

  const unused = headers.map((h, c) => (used.has(c) || h.trim() === '' ? -1 : c)).filter((c) => c >= 0);
  if (unused.length > 0) warnings.push(`columns kept but not used for tracing: ${quoted(unused)}`);
  return { fields, warnings, ambiguous };
}

/** Fields a file must be able to supply for any row to be traceable (a date of birth, and an NHS number or a family name and sex). */
export function missingTraceFields(fields: FieldColumns): FieldName[] {
  const missing: FieldName[] = [];
  if (fields.dateOfBirth === undefined) missing.push('dateOfBirth');
  if (fields.nhsNumber === undefined && (fields.familyName === undefined || fields.sex === undefined)) {
    missing.push('nhsNumber');
    if (fields.familyName === undefined) missing.push('familyName');
    if (fields.sex === undefined) missing.push('sex');
  }
  return missing;
}

function matches(words: readonly string[], rule: FieldRule): boolean {
  if (words.some((w) => rule.excludes.includes(w))) return false;
  return rule.anyOf.some((set) => set.every((w) => words.includes(w)));
}

function unusedMatching(words: readonly string[][], used: ReadonlySet<number>, rule: FieldRule): number[] {
  return words.flatMap((w, column) => (!used.has(column) && matches(w, rule) ? [column] : []));
}

/**
 * Numbered address columns (`Address Line 2`, `ADD2`) go to their line; unnumbered ones (`Address`,
 * `Street`, `Town`) fill the remaining lines in column order. Addresses are echoed, never searched.
 */
function assignAddressLines(words: readonly string[][], used: Set<number>, fields: FieldColumns, quoted: (c: number[]) => string): string[] {
  const warnings: string[] = [];
  const columns = unusedMatching(words, used, ADDRESS);
  const bySlot = new Map<number, number[]>();
  const unnumbered: number[] = [];
  for (const column of columns) {
    const digit = words[column]!.find((w) => /^[1-9]$/.test(w));
    if (digit === undefined) unnumbered.push(column);
    else bySlot.set(Number(digit), [...(bySlot.get(Number(digit)) ?? []), column]);
  }
  const taken = new Set<number>();
  for (const [slot, cols] of bySlot) {
    if (slot > ADDRESS_FIELDS.length) continue;
    if (cols.length > 1) {
      warnings.push(`columns ${quoted(cols)} could each be address line ${slot}, so none is used`);
      cols.forEach((c) => used.add(c));
      continue;
    }
    fields[ADDRESS_FIELDS[slot - 1]!] = cols[0]!;
    taken.add(slot);
    used.add(cols[0]!);
  }
  let slot = 1;
  for (const column of unnumbered) {
    while (taken.has(slot)) slot++;
    if (slot > ADDRESS_FIELDS.length) break;
    fields[ADDRESS_FIELDS[slot - 1]!] = column;
    taken.add(slot);
    used.add(column);
  }
  return warnings;
}
