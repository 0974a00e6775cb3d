/**
 * A column header reduced to canonical words, so that headers are matched on meaning rather than
 * spelling: `NHS_NO`, `nhs number`, `NHSNumber`, `N.H.S. No.` and `Patient NHS Nos` all contain the
 * words `nhs` and `number`. Real exports prefix (`PAS_Surname`), abbreviate (`DOB`, `Fname`),
 * pluralise (`Forenames`) and punctuate (`D.O.B.`) their headers.
 */

/** Run-together words as exports spell them, split into the words they stand for. */
const COMPOUNDS: Readonly<Record<string, readonly string[]>> = {
  nhsno: ['nhs', 'number'],
  nhsnum: ['nhs', 'number'],
  nhsnbr: ['nhs', 'number'],
  nhsnumber: ['nhs', 'number'],
  dob: ['date', 'birth'],
  dateofbirth: ['date', 'birth'],
  birthdate: ['date', 'birth'],
  birthday: ['date', 'birth'],
  born: ['date', 'birth'],
  dod: ['date', 'death'],
  dateofdeath: ['date', 'death'],
  lastname: ['last', 'name'],
  lname: ['last', 'name'],
  familyname: ['family', 'name'],
  sname: ['surname'],
  firstname: ['first', 'name'],
  fname: ['first', 'name'],
  givenname: ['given', 'name'],
  christianname: ['christian', 'name'],
  middlename: ['middle', 'name'],
  othername: ['other', 'name'],
  zipcode: ['postcode'],
  zip: ['postcode'],
  pcode: ['postcode'],
  postalcode: ['postal', 'code'],
  localid: ['local', 'id'],
  patientid: ['patient', 'id'],
  addressline: ['address', 'line'],
  addr: ['address'],
  add: ['address'],
  email: ['email'],
  emailaddress: ['email', 'address'],
};

/** Abbreviations and variants of single words. */
const SYNONYMS: Readonly<Record<string, string>> = {
  no: 'number',
  nos: 'number',
  num: 'number',
  nbr: 'number',
  nr: 'number',
  numb: 'number',
  ref: 'reference',
  identifier: 'id',
  ident: 'id',
  ids: 'id',
  dt: 'date',
  pt: 'patient',
  pat: 'patient',
  mail: 'email',
};

const STOP_WORDS = new Set(['of', 'the', 'at', 'a', 'an', 'in', 'for', 'and']);

export function headerWords(header: string): string[] {
  const spaced = header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    // camelCase and acronyms: NHSNumber → NHS Number, dateOfBirth → date Of Birth
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    // letters and digits: Address1 → Address 1, Add1 → Add 1
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .toLowerCase();
  const raw = spaced.split(/[^a-z0-9]+/).filter((w) => w.length > 0);
  const words: string[] = [];
  for (const word of joinSingleLetters(raw)) {
    if (STOP_WORDS.has(word)) continue;
    const singular = singularise(word);
    const expanded = COMPOUNDS[singular] ?? COMPOUNDS[word] ?? [SYNONYMS[word] ?? SYNONYMS[singular] ?? singular];
    words.push(...expanded);
  }
  return words;
}

/** Dotted abbreviations come apart into letters (`D.O.B.` → d o b); put them back together. */
function joinSingleLetters(words: string[]): string[] {
  const out: string[] = [];
  let run = '';
  for (const word of words) {
    if (/^[a-z]$/.test(word)) {
      run += word;
      continue;
    }
    if (run) out.push(run);
    run = '';
    out.push(word);
  }
  if (run) out.push(run);
  return out;
}

function singularise(word: string): string {
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}
