/**
 * Which field of the input a rejection reason is about, for the summary's data-quality table.
 * Reason codes name their field by prefix (`nhs_number_check_digit`, `missing_family_name`,
 * `date_of_birth_in_future`, `sex_code`, `duplicate_local_id`; src/domain/reasons.ts), so codes
 * the CSV reader adds later land in the right row without an edit here. A reason that names no
 * field (a ragged row, a provider's rejection) counts against the row as a whole.
 */
export const DATA_QUALITY_FIELDS = [
  'nhsNumber',
  'familyName',
  'givenName',
  'dateOfBirth',
  'sex',
  'postcode',
  'localId',
  'address',
  'row',
] as const;

export type DataQualityField = (typeof DATA_QUALITY_FIELDS)[number];

/** Plain-English field names for reports. */
export const DATA_QUALITY_FIELD_LABELS: Readonly<Record<DataQualityField, string>> = {
  nhsNumber: 'NHS number',
  familyName: 'Family name',
  givenName: 'Given name',
  dateOfBirth: 'Date of birth',
  sex: 'Sex',
  postcode: 'Postcode',
  localId: 'Local identifier',
  address: 'Address',
  row: 'Whole row or other',
};

const FIELD_BY_PREFIX: ReadonlyArray<readonly [string, DataQualityField]> = [
  ['nhs_number', 'nhsNumber'],
  ['family_name', 'familyName'],
  ['given_name', 'givenName'],
  ['date_of_birth', 'dateOfBirth'],
  ['sex', 'sex'],
  ['postcode', 'postcode'],
  ['local_id', 'localId'],
  ['address', 'address'],
];

export function fieldOfReason(reason: string): DataQualityField {
  const subject = reason.replace(/^(missing|duplicate)_/, '');
  for (const [prefix, field] of FIELD_BY_PREFIX) {
    if (subject === prefix || subject.startsWith(`${prefix}_`)) return field;
  }
  return 'row';
}
