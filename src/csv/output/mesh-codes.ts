import type { Interaction } from '../../domain/interaction.js';
import type { TraceStatus } from '../../domain/outcome.js';
import type { RowResult } from '../../domain/row-result.js';

/**
 * How a pds-trace outcome reads in a PDS MESH (formerly MPT) response record: the one table that
 * maps our statuses onto `ERROR/SUCCESS_CODE`, `MATCHED_NHS_NO` and
 * `MATCHED_ALGORITHM_INDICATOR` (batch-formats.md §3.5, from NHS Digital's DSP `SpineResponseCodes`
 * citing "SPINE Phase 4 error codes in response file").
 *
 * | status           | code                        | MATCHED_NHS_NO        | algorithm        |
 * |------------------|-----------------------------|-----------------------|------------------|
 * | verified         | 00 (92 if sensitive)        | the traced number     | by interaction   |
 * | matched          | 00 (92 if sensitive)        | the traced number     | by interaction   |
 * | superseded       | 90                          | the replacement       | by interaction   |
 * | invalidated      | 91                          | 0000000000            | by interaction   |
 * | no_match         | 98 not found                | 0000000000            | 0                |
 * | multiple_matches | 97 multiple close matches   | 9999999999            | 0                |
 * | not_verified     | 98 not found                | 0000000000            | 0                |
 * | invalid_input    | 08/10/11/12/13/96 by reason | (blank)               | (blank)          |
 * | error            | 15 no trace performed       | (blank)               | (blank)          |
 *
 * Where the reference is silent, the most conservative reading:
 * - invalidated: Dorset's fixture for a deleted record has 91 with 0000000000 (and 91 with another
 *   number for a merge, which SMSP reports as superseded/90 instead); no number is handed out.
 * - not_verified (DEMOG-0040: number in use, details do not match) has no MESH code of its own.
 *   98 with the no-match sentinel: the consumer must not take the supplied number as confirmed.
 * - error: nothing was traced, so 15 "no trace performed", and no sentinel, because 0000000000 would
 *   claim PDS has nobody (ARCHITECTURE property 2: a failure is never a no-match).
 * - sensitive: NHS Digital's own cross-check returns 92 for a restricted record
 *   (peers-and-governance.md §4.7). It replaces 00 only; a superseded sensitive record keeps 90 so
 *   the change of number is not hidden, and SENSITIVITY_FLAG still says S.
 * - The algorithm indicator (0 none, 1 cross-check, 2 simple, 3 alphanumeric, 4 algorithmic):
 *   the SMSP client requirements suggest cross-check for verification and retrieval by number,
 *   and simple or alphanumeric trace for searches (SPEC §7, [PDSCR] §3.1); the provider's choice is
 *   not visible to us, so searches say 2 (simple), the weaker claim.
 */

export const MESH_RECORD_CODES = {
  success: '00',
  uniqueReferenceError: '08',
  requiredFieldMissing: '10',
  fieldLengthExceeded: '11',
  invalidGender: '12',
  invalidFieldFormat: '13',
  noTracePerformed: '15',
  supersededSuccess: '90',
  invalidated: '91',
  sensitive: '92',
  notEnoughData: '96',
  multipleMatches: '97',
  notFound: '98',
} as const;

export type MeshRecordCode = (typeof MESH_RECORD_CODES)[keyof typeof MESH_RECORD_CODES];

/** `MATCHED_NHS_NO` sentinels (batch-formats.md §3.5). */
export const MESH_NO_MATCH_NHS_NUMBER = '0000000000';
export const MESH_MULTIPLE_MATCH_NHS_NUMBER = '9999999999';

type MatchedNumber = 'traced' | 'no_match_sentinel' | 'multiple_match_sentinel' | 'blank';
type Algorithm = 'by_interaction' | 'none' | 'blank';

interface MeshStatusRule {
  /** Fixed code, or `by_reason` for invalid_input (see {@link invalidInputCode}). */
  code: MeshRecordCode | 'by_reason';
  matchedNhsNumber: MatchedNumber;
  algorithm: Algorithm;
}

const C = MESH_RECORD_CODES;

export const MESH_STATUS_RULES: Readonly<Record<TraceStatus, MeshStatusRule>> = {
  verified: { code: C.success, matchedNhsNumber: 'traced', algorithm: 'by_interaction' },
  matched: { code: C.success, matchedNhsNumber: 'traced', algorithm: 'by_interaction' },
  superseded: { code: C.supersededSuccess, matchedNhsNumber: 'traced', algorithm: 'by_interaction' },
  invalidated: { code: C.invalidated, matchedNhsNumber: 'no_match_sentinel', algorithm: 'by_interaction' },
  no_match: { code: C.notFound, matchedNhsNumber: 'no_match_sentinel', algorithm: 'none' },
  multiple_matches: { code: C.multipleMatches, matchedNhsNumber: 'multiple_match_sentinel', algorithm: 'none' },
  not_verified: { code: C.notFound, matchedNhsNumber: 'no_match_sentinel', algorithm: 'none' },
  invalid_input: { code: 'by_reason', matchedNhsNumber: 'blank', algorithm: 'blank' },
  error: { code: C.noTracePerformed, matchedNhsNumber: 'blank', algorithm: 'blank' },
};

/**
 * The record code for a row that was not traced as given, from its reason code. Reason codes are
 * matched by shape so the CSV-input codes added by the reader map without a table edit here.
 */
export function invalidInputCode(reason: string): MeshRecordCode {
  if (reason === 'duplicate_local_id') return C.uniqueReferenceError;
  if (reason === 'missing_date_of_birth') return C.requiredFieldMissing; // every MESH trace needs a DOB
  if (reason.startsWith('missing_')) return C.notEnoughData;
  if (reason.startsWith('sex_')) return C.invalidGender;
  if (reason === 'field_too_long' || reason === 'record_too_large') return C.fieldLengthExceeded;
  return C.invalidFieldFormat;
}

const ALGORITHM_BY_INTERACTION: Readonly<Record<Interaction, '1' | '2' | 'by_request'>> = {
  verifyNHSNumber: '1',
  getPatientDetailsByNHSNumber: '1',
  getNHSNumber: '2',
  getPatientDetailsBySearch: '2',
  // Cross-check when the request carried an NHS number, a search otherwise (SPEC §10 item 14).
  getPatientDetails: 'by_request',
};

export interface MeshOutcome {
  code: MeshRecordCode;
  matchedNhsNumber: string;
  algorithmIndicator: string;
  /**
   * SMSP returns exact, unique matches only (SPEC §7) and no score. Dorset's fixtures show 100 for
   * a cross-check match, so a deterministic match says 100; anything else is blank.
   */
  confidencePercentage: string;
}

export function meshOutcome(result: RowResult, request: { nhsNumber?: string }): MeshOutcome {
  const rule = MESH_STATUS_RULES[result.status];
  let code = rule.code === 'by_reason' ? invalidInputCode(result.reason) : rule.code;
  if (code === C.success && result.patient?.sensitive === true) code = C.sensitive;

  let matchedNhsNumber = '';
  if (rule.matchedNhsNumber === 'traced') {
    // verifyNHSNumber confirms the number it was given and may return nothing else.
    matchedNhsNumber = result.nhsNumber ?? result.patient?.nhsNumber ?? (result.status === 'verified' ? (request.nhsNumber ?? '') : '');
  } else if (rule.matchedNhsNumber === 'no_match_sentinel') {
    matchedNhsNumber = MESH_NO_MATCH_NHS_NUMBER;
  } else if (rule.matchedNhsNumber === 'multiple_match_sentinel') {
    matchedNhsNumber = MESH_MULTIPLE_MATCH_NHS_NUMBER;
  }

  let algorithmIndicator = '';
  if (rule.algorithm === 'none') algorithmIndicator = '0';
  else if (rule.algorithm === 'by_interaction' && result.interaction) {
    const byInteraction = ALGORITHM_BY_INTERACTION[result.interaction];
    algorithmIndicator = byInteraction === 'by_request' ? (request.nhsNumber ? '1' : '2') : byInteraction;
  }

  const matched = rule.matchedNhsNumber === 'traced' && (algorithmIndicator === '1' || algorithmIndicator === '2');
  return { code, matchedNhsNumber, algorithmIndicator, confidencePercentage: matched ? '100' : '' };
}
