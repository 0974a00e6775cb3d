/**
 * The closed outcome vocabulary of pds-trace: every row of every file ends with exactly one of these
 * statuses, whichever interaction traced it and whichever runner drove it.
 */
export const TRACE_STATUSES = [
  'verified',
  'matched',
  'no_match',
  'multiple_matches',
  'not_verified',
  'superseded',
  'invalidated',
  'invalid_input',
  'error',
] as const;

export type TraceStatus = (typeof TRACE_STATUSES)[number];

/** What each status means, for READMEs, summaries and help text. */
export const TRACE_STATUS_MEANING: Readonly<Record<TraceStatus, string>> = {
  verified: 'the NHS number supplied was confirmed by PDS',
  matched: 'PDS found exactly one person from the demographics alone',
  no_match: 'PDS found nobody matching the details (DEMOG-0001)',
  multiple_matches: 'PDS found more than one person and returned none (DEMOG-0007)',
  not_verified: 'the NHS number is in use but the details supplied do not match it (DEMOG-0040)',
  superseded: 'the NHS number was replaced by a merge; use the replacement number (DEMOG-0017)',
  invalidated: 'the NHS number has been invalidated and has no replacement (DEMOG-0022)',
  invalid_input: 'the row or request could not be traced as given',
  error: 'a technical failure: the row was not traced and can be retried',
};

/** Statuses that carry an NHS number PDS returned for the person. */
export const STATUSES_WITH_NHS_NUMBER: ReadonlySet<TraceStatus> = new Set(['verified', 'matched', 'superseded']);

export function isTraceStatus(value: string): value is TraceStatus {
  return (TRACE_STATUSES as readonly string[]).includes(value);
}
