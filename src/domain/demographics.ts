/**
 * The demographic shapes pds-trace moves around: what a row asks PDS about, and what PDS answers.
 * Pure data; builders, parsers and CSV code all speak these types.
 */

/** HL7 "Sex" vocabulary 2.16.840.1.113883.2.1.3.2.4.16.25: 0 not known, 1 male, 2 female, 9 not specified. */
export type SexCode = '0' | '1' | '2' | '9';
export const SEX_CODES: readonly SexCode[] = ['0', '1', '2', '9'];

/**
 * A date as PDS exchanges it: YYYY, YYYYMM or YYYYMMDD (HL7 TS, truncated to the known precision).
 */
export type PdsDate = string;

/** One person to trace, already normalised (see src/csv for the normalisation rules). */
export interface PatientQuery {
  nhsNumber?: string;
  familyName?: string;
  /** Only one given name is allowed in SMSP requests (SPEC §4.2). */
  givenName?: string;
  dateOfBirth: PdsDate;
  sex?: SexCode;
  /** Upper case with a single space before the inward code, or a wildcard form such as `LS1*`. */
  postcode?: string;
  /** The caller's own identifier for the record, echoed back by getNHSNumber / getPatientDetails*. */
  localId?: string;
}

/** Address uses seen in PDS responses: H home, TMP temporary, PST correspondence. */
export interface PdsAddress {
  use?: string;
  /** Street address lines in order; PDS sends five, blanks kept as empty strings. */
  lines: string[];
  postcode?: string;
}

export interface PdsTelecom {
  use?: string;
  /** As PDS sends it, e.g. `tel:01632960000` or `mailto:someone@example.org`. */
  value: string;
}

export interface GpPractice {
  odsCode: string;
  name?: string;
}

/** What PDS returned about one person. Absent fields were not returned; empty strings were returned blank. */
export interface PdsPatient {
  nhsNumber: string;
  /** The local identifier PDS echoed back, if any. */
  localId?: string;
  title?: string;
  givenNames: string[];
  familyName?: string;
  sex?: SexCode;
  dateOfBirth?: PdsDate;
  dateOfDeath?: PdsDate;
  addresses: PdsAddress[];
  telecoms: PdsTelecom[];
  gpPractice?: GpPractice;
  /**
   * True when the record looks sensitive (S-flag): PDS withholds address, contact and GP details.
   * SMSP has no explicit flag, so this is inferred from a details response with none of them.
   */
  sensitive?: boolean;
}
