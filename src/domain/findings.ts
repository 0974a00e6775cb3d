/**
 * The words the data-quality findings are written in, shared by the checks (src/quality/) and
 * the writers that print them (src/csv/output/): which fields are compared with PDS, their labels,
 * and the shape of one difference and of a row's findings.
 */

export const DISCREPANCY_FIELDS = [
  'family_name',
  'given_name',
  'date_of_birth',
  'sex',
  'postcode',
  'address',
  'date_of_death',
  'gp_practice',
] as const;

export type DiscrepancyField = (typeof DISCREPANCY_FIELDS)[number];

export const DISCREPANCY_FIELD_LABELS: Readonly<Record<DiscrepancyField, string>> = {
  family_name: 'Family name',
  given_name: 'Given name',
  date_of_birth: 'Date of birth',
  sex: 'Sex',
  postcode: 'Postcode',
  address: 'Address',
  date_of_death: 'Date of death',
  gp_practice: 'GP practice',
};

/** One difference: the values as a person reads them (ISO dates, sex codes); absent when that side holds none. */
export interface Discrepancy {
  field: DiscrepancyField;
  local?: string;
  pds?: string;
}

/** The findings the output writers take; absent ones are written empty. */
export interface RowFindings {
  /** The input reader's flags and the quality checks' findings (dq-flags.ts), in table order. */
  flags?: string[];
  /** Differences from the PDS record returned for the row. */
  discrepancies?: Discrepancy[];
}
