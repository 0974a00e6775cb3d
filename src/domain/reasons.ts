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

  // Answers that do not belong to their request (ARCHITECTURE property 8): never a match, whatever code they carry
  payload_on_http_error: 'the provider sent an SMSP answer, not a SOAP fault, with an HTTP status other than 200',
  response_mismatch: 'the provider\'s answer names another request (wsa:RelatesTo or acknowledgement id)',
  response_replayed: 'the provider\'s answer repeats the message id of an earlier answer (a replay)',
  local_id_mismatch: 'the local identifier echoed in the answer is not the one sent',
  multiple_nhs_numbers: 'the answer carries more than one different NHS number',
  invalid_returned_nhs_number: 'the NHS number in the answer is not ten digits with a valid check digit',
  returned_nhs_number_differs: 'the NHS number in the answer is not the one supplied for verification',
  replacement_nhs_number_unchanged: 'the answer says the NHS number was superseded but returns the same number as its replacement',
  response_contradicts_search: 'the date of birth or sex in the answer contradicts the details searched with',

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

  // CSV input (src/csv/input): problems with the file's own data, found while reading it. Row codes
  // go with status invalid_input (or, for duplicate_local_id, a non-fatal row flag); the file-level
  // codes at the end are InputFileError reasons for a file that cannot be read as a table at all.
  ragged_row: 'the row has a different number of cells from the header (often an unquoted comma)',
  record_too_large: 'the record is longer than the maximum record size, usually a quote that is never closed',
  unclosed_quote: 'a quoted cell is never closed before the end of the file',
  malformed_record: 'the record could not be read as CSV',
  invalid_encoding: 'the row holds bytes that are not valid UTF-8 in a file read as UTF-8 (often one cell pasted from a Windows-1252 file); they show as \uFFFD',
  nhs_number_excel_damaged: 'the NHS number looks damaged by a spreadsheet (scientific notation, a decimal part or a lost leading zero); re-export the column as text',
  nhs_number_placeholder: 'the NHS number is a placeholder (ten identical digits), not a real number',
  date_of_birth_ambiguous: 'the date of birth has a two-digit year, so its century is ambiguous',
  date_of_birth_invalid: 'the date of birth is not a real calendar date',
  date_of_birth_excel_serial_out_of_range: 'the date of birth is a number that, read as an Excel date serial, falls after today',
  date_of_birth_implausible: 'the date of birth is before 1850, which usually means a database placeholder',
  sex_unrecognised: 'sex must be 0/1/2/9, M/F/U or male/female/unknown/not specified',
  duplicate_local_id: 'the local id also appears on an earlier row of the same file',
  no_rows: 'the file has no data rows to trace (it is empty, or holds only a byte order mark, blank lines or a header)',
  columns_not_mapped: 'the file\'s columns do not name enough fields to trace (a date of birth, and an NHS number or a family name and sex)',
  columns_ambiguous: 'more than one column could hold the same field; name the right one with --mapping',
  mapping_file_invalid: 'the --mapping file could not be read or names an unknown field',
} as const;

export type ReasonCode = keyof typeof REASONS;

export function reasonMessage(code: string): string {
  return (REASONS as Record<string, string>)[code] ?? code;
}
