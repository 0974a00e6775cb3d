/**
 * Machine-readable reason codes that accompany a trace status, with the message a person reads.
 * One table for the whole project: SMSP outcomes, transport failures and local validation all
 * add their codes here, so the CSV writer, summary, audit and web pages agree on wording.
 */
export const REASONS = {
  // Successful traces
  ok: 'traced',
  stale_local_store: 'traced from the provider\'s local store while Spine was unavailable (SMSP-0003); data may be stale',

  // PDS business outcomes
  no_match: 'no PDS record matched the details supplied',
  multiple_matches: 'more than one PDS record matched; PDS returns none in that case',
  nhs_number_not_verified: 'the NHS number is in use but the details supplied do not match it',
  nhs_number_superseded: 'the NHS number was superseded by a merge; the replacement is returned',
  nhs_number_invalidated: 'the NHS number has been invalidated and has no replacement',
  nhs_number_not_new_style: 'PDS says the NHS number is not a new-style ten-digit number (DEMOG-0042)',
  verification_failed: 'PDS answered that the NHS number is not valid for these details',

  // Local checks (before any request is sent; shared by the CSV validator and the SMSP client)
  missing_nhs_number: 'NHS number is required for this interaction',
  nhs_number_format: 'NHS number must be exactly ten digits',
  nhs_number_check_digit: 'NHS number fails the Modulus 11 check digit',
  missing_date_of_birth: 'date of birth is required',
  date_of_birth_format: 'date of birth must be YYYYMMDD (or YYYYMM / YYYY where a partial date is allowed)',
  date_of_birth_partial_not_allowed: 'a partial date of birth cannot be used for this interaction',
  date_of_birth_in_future: 'date of birth is in the future',
  missing_family_name: 'family name is required for a demographic search',
  missing_sex: 'sex is required for a demographic search',
  sex_code: 'sex must be 0, 1, 2 or 9',
  postcode_format: 'postcode is not a valid UK postcode shape',
  wildcard_not_allowed: 'a wildcard (*) is only allowed in searches, after at least two characters',
  invalid_characters: 'a field holds control characters that cannot be sent',
  field_too_long: 'a field is longer than SMSP accepts',

  // Provider-side errors (SMSP / PDS)
  smsp_input_validation: 'the SMSP provider rejected the request as invalid (SMSP-0001)',
  smsp_response_validation: 'the SMSP provider could not validate the Spine response (SMSP-0002)',
  spine_unreachable: 'the SMSP provider could not connect to Spine (SMSP-0004)',
  author_credentials: 'the SMSP provider rejected our credentials (SMSP-0005); check ASID and certificate',
  smsp_failure: 'the SMSP provider failed (SMSP-9999)',
  pds_error: 'PDS returned a generic error (DEMOG-9999)',
  unknown_response_code: 'the SMSP provider returned a response code pds-trace does not know',

  // ITK SOAP faults
  itk_invalid_message: 'the provider said the message was unrecognised or incorrect (ITK 1000)',
  itk_processing_error_retryable: 'the provider had a processing error and asked us to retry (ITK 2100)',
  itk_processing_error: 'the provider had a processing error that a retry will not fix (ITK 2200)',
  itk_access_denied: 'the provider denied access (ITK 3000); check the certificate and audit identity',
  soap_fault: 'the provider answered with a SOAP fault',

  // Transport
  provider_busy: 'the provider was busy (HTTP 503) and retries ran out',
  timeout: 'no answer from the provider within the timeout',
  connection_refused: 'the provider refused the connection',
  connection_reset: 'the connection to the provider was reset',
  tls_error: 'the TLS handshake with the provider failed; check certificates and CA',
  http_status: 'the provider answered with an unexpected HTTP status',
  malformed_response: 'the provider\'s answer was not a well-formed SMSP response',
  aborted: 'the request was abandoned because pds-trace was shutting down',
  network_error: 'a network error stopped the request',
} as const;

export type ReasonCode = keyof typeof REASONS;

export function reasonMessage(code: string): string {
  return (REASONS as Record<string, string>)[code] ?? code;
}
