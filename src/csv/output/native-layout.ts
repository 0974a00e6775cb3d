import { reasonMessage } from '../../domain/reasons.js';
import type { RowResult } from '../../domain/row-result.js';
import type { RowFindings } from '../../domain/findings.js';
import { guardFormula } from './formula-guard.js';
import { addressText, givenNamesText, homeAddress, isoDateFromPds, sensitiveText } from './patient-fields.js';

/**
 * The pds-trace results layout: the input's own columns, then these, in this order.
 *
 * Every cell whose text came from PDS or the provider goes through the formula guard (names,
 * address, postcode, practice code, the message with its detail, response code, NHS numbers, dates).
 * The guard cannot alter a well-formed NHS number or date (property-tested), so identifiers stay
 * exactly as PDS sent them, while a malformed value that PDS passed through is still neutralised.
 * Only our own closed vocabulary (status, reason code, interaction, sex code, true/false) and the
 * message ids we generated are written without it.
 *
 * The last two carry the data-quality findings (src/quality/): `trace_dq_flags` the row's flags
 * (flags.ts, e.g. `duplicate_nhs_number;demographic_discrepancy`) and `trace_discrepancies` the
 * fields where the local details differ from PDS (discrepancies.ts), each joined with `;`. The
 * warnings and values are in the back-office and discrepancy reports.
 */
export const TRACE_COLUMNS = [
  'trace_status',
  'trace_reason',
  // The reason in words, so an analyst need not look codes up; right after the code it explains.
  'trace_message',
  'trace_nhs_number',
  'trace_response_code',
  'trace_interaction',
  'trace_family_name',
  'trace_given_names',
  'trace_date_of_birth',
  'trace_sex',
  'trace_postcode',
  'trace_address',
  'trace_date_of_death',
  'trace_gp_practice_code',
  'trace_sensitive',
  'trace_superseded_nhs_number',
  'trace_message_id',
  'trace_dq_flags',
  'trace_discrepancies',
] as const;

export type TraceColumn = (typeof TRACE_COLUMNS)[number];

/** The human message for a result: the reason's wording, then the PII-free detail if any. */
export function traceMessage(result: RowResult): string {
  const message = reasonMessage(result.reason);
  return result.detail ? `${message}: ${result.detail}` : message;
}

export function traceCells(result: RowResult, findings: RowFindings = {}): string[] {
  const patient = result.patient;
  const home = homeAddress(patient);
  const cells: Record<TraceColumn, string> = {
    trace_status: result.status,
    trace_reason: result.reason,
    trace_message: guardFormula(traceMessage(result)),
    trace_nhs_number: guardFormula(result.nhsNumber ?? patient?.nhsNumber ?? ''),
    trace_response_code: guardFormula(result.responseCode ?? ''),
    trace_interaction: result.interaction ?? '',
    trace_family_name: guardFormula(patient?.familyName ?? ''),
    trace_given_names: guardFormula(givenNamesText(patient)),
    trace_date_of_birth: guardFormula(isoDateFromPds(patient?.dateOfBirth)),
    trace_sex: patient?.sex ?? '',
    trace_postcode: guardFormula(home?.postcode ?? ''),
    trace_address: guardFormula(addressText(home)),
    trace_date_of_death: guardFormula(isoDateFromPds(patient?.dateOfDeath)),
    trace_gp_practice_code: guardFormula(patient?.gpPractice?.odsCode ?? ''),
    trace_sensitive: sensitiveText(patient),
    trace_superseded_nhs_number: guardFormula(result.supersededNhsNumber ?? ''),
    trace_message_id: result.messageId ?? '',
    // Flags come from pds-trace's table or the CSV reader's own codes; guarded all the same.
    trace_dq_flags: guardFormula((findings.flags ?? []).join(';')),
    trace_discrepancies: (findings.discrepancies ?? []).map((d) => d.field).join(';'),
  };
  return TRACE_COLUMNS.map((column) => cells[column]);
}
