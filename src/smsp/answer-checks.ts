/**
 * Whether an SMSP answer belongs to the request it came back for (ARCHITECTURE property 8). A
 * provider that is broken, misrouted or hostile must never make pds-trace attach a wrong NHS number
 * to a row, so an answer that fails any check here is an `error` with its own reason, never a match.
 * Pure: the client supplies the request's ids, the HTTP status and whether the answer's id was seen
 * before. Details name the check that failed, never the values (ARCHITECTURE property 6).
 */

import type { PatientQuery, PdsDate } from '../domain/demographics.js';
import { isValidNhsNumber } from '../domain/nhs-number.js';
import type { ReasonCode } from '../domain/reasons.js';
import type { Interaction } from './interactions.js';
import { hasValue, isSearch, sentFields } from './query-parameters.js';
import type { ParsedPayloadResponse } from './types.js';

/** What the client knows about the exchange an answer came from. */
export interface AnswerContext {
  /** The ids of the request sent: wsa:MessageID and the HL7 payload id/@root. */
  request: { messageId: string; payloadId: string };
  /** The HTTP status the answer came with. */
  httpStatus: number;
  /** True when this client has already seen an answer with the same wsa:MessageID. */
  replayed: boolean;
}

/** Why an answer was refused: a reason code and a PII-free detail naming the failed check. */
export interface AnswerProblem {
  reason: ReasonCode;
  detail: string;
}

/**
 * Checks every answer, whatever its code: a no-match that answers another request is no more
 * ours than a match is.
 */
export function exchangeProblem(interaction: Interaction, query: PatientQuery, parsed: ParsedPayloadResponse, context: AnswerContext): AnswerProblem | undefined {
  // SOAP faults come with HTTP 500 (SPEC §6.3); an SMSP payload only ever with 200 (SPEC §6.2:
  // "All answered HTTP 200"). A payload on 500 is a provider that does not know what it said.
  if (context.httpStatus !== 200) {
    return { reason: 'payload_on_http_error', detail: `SMSP answer with HTTP status ${context.httpStatus}` };
  }
  // NHS Digital sends no RelatesTo (SPEC §2.3), so absence is fine; presence must name our request.
  if (parsed.relatesTo?.some((id) => !sameId(id, context.request.messageId))) {
    return { reason: 'response_mismatch', detail: 'wsa:RelatesTo does not name the request sent' };
  }
  // An HL7 acknowledgement may name the message or the payload it acknowledges: either of ours will do.
  if (parsed.acknowledgedIds?.some((id) => !sameId(id, context.request.messageId) && !sameId(id, context.request.payloadId))) {
    return { reason: 'response_mismatch', detail: 'acknowledgement messageRef does not name the request sent' };
  }
  if (context.replayed) {
    return { reason: 'response_replayed', detail: 'answer wsa:MessageID was already seen on an earlier answer' };
  }
  // The local id is echoed unchanged (SPEC §5.4); any other is another request's answer.
  const localIds = [parsed.localId, ...(parsed.otherLocalIds ?? [])].filter((id) => id !== undefined);
  if (localIds.length > 0) {
    const sent = sentFields(interaction).includes('localId') && hasValue(query.localId) ? query.localId : undefined;
    if (localIds.some((id) => id !== sent)) {
      return { reason: 'local_id_mismatch', detail: sent === undefined ? 'answer echoes a local identifier that was not sent' : 'echoed local identifier differs from the one sent' };
    }
  }
  return undefined;
}

/**
 * Checks an answer that names a person, `returned` being its NHS number (a success, or DEMOG-0017
 * with its replacement): one valid NHS number, the one asked about for a look-up by number (the
 * replacement another one), consistent with the details searched.
 */
export function subjectProblem(
  interaction: Interaction,
  query: PatientQuery,
  parsed: ParsedPayloadResponse,
  returned: string,
  superseded: boolean,
): AnswerProblem | undefined {
  if (parsed.otherNhsNumbers !== undefined) {
    return { reason: 'multiple_nhs_numbers', detail: 'answer carries more than one different NHS number' };
  }
  // SPEC §9: a number failing Modulus 11 was never issued, whoever sends it.
  if (!isValidNhsNumber(returned)) {
    return { reason: 'invalid_returned_nhs_number', detail: 'returned NHS number fails the ten-digit Modulus 11 check' };
  }
  if (looksUpByNhsNumber(interaction, query)) {
    // DEMOG-0017 returns the replacement, which must be another number (SPEC §6.1, §7);
    // any other answer to a look-up by number is about the number supplied.
    if (superseded && returned === query.nhsNumber) {
      return { reason: 'replacement_nhs_number_unchanged', detail: 'superseded answer returns the supplied NHS number as its replacement' };
    }
    if (!superseded && returned !== query.nhsNumber) {
      return { reason: 'returned_nhs_number_differs', detail: 'returned NHS number differs from the one supplied' };
    }
  }
  if (isSearch(interaction, query)) {
    const person = parsed.patient;
    if (person?.dateOfBirth !== undefined && datesContradict(query.dateOfBirth, person.dateOfBirth)) {
      return { reason: 'response_contradicts_search', detail: 'returned date of birth contradicts the one searched with' };
    }
    if (person?.sex !== undefined && sexesContradict(query.sex, person.sex)) {
      return { reason: 'response_contradicts_search', detail: 'returned sex contradicts the one searched with' };
    }
  }
  return undefined;
}

/** A success confirms the number supplied when the lookup was keyed on it (getPatientDetails takes either, SPEC §4.3). */
export function looksUpByNhsNumber(interaction: Interaction, query: PatientQuery): boolean {
  return interaction === 'verifyNHSNumber' || interaction === 'getPatientDetailsByNHSNumber' || (interaction === 'getPatientDetails' && hasValue(query.nhsNumber));
}

/**
 * Ids compare as UUIDs: case-insensitively (SPEC §2.1 recommends upper case, not every provider
 * obeys), and without a WS-Addressing `uuid:` / `urn:uuid:` or ITK `uuid_` prefix.
 */
function sameId(theirs: string, ours: string): boolean {
  const bare = (id: string) => id.trim().replace(/^(urn:uuid:|uuid:|uuid_)/i, '').toUpperCase();
  return bare(theirs) === bare(ours);
}

const DATE_PREFIX = /^\d{4}(\d{2}(\d{2})?)?/;

/**
 * A searched date (YYYY, YYYYMM or YYYYMMDD, SPEC §4.4) contradicts the returned one when they
 * differ at the precision both have. A returned value that is not a date at all cannot be shown to
 * agree, so it counts as a contradiction.
 */
export function datesContradict(searched: PdsDate, returned: PdsDate): boolean {
  const returnedDate = DATE_PREFIX.exec(returned)?.[0];
  if (returnedDate === undefined) return true;
  const precision = Math.min(searched.length, returnedDate.length, 8);
  return searched.slice(0, precision) !== returnedDate.slice(0, precision);
}

/** Only a known sex contradicts another known one: 0 (not known) and 9 (not specified) never do. */
export function sexesContradict(searched: string | undefined, returned: string): boolean {
  const known = (sex: string | undefined) => sex === '1' || sex === '2';
  return known(searched) && known(returned) && searched !== returned;
}
