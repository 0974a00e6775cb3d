import type { PatientQuery } from '../../domain/demographics.js';
import { normaliseDateOfBirth, type DateOptions } from '../input/normalise/date.js';
import type { FieldResult } from '../input/normalise/field-result.js';
import { normalisePostcode } from '../input/normalise/postcode.js';
import { normaliseSex } from '../input/normalise/sex.js';
import type { RowResult } from '../../domain/row-result.js';
import { guardFormula } from './formula-guard.js';
import { meshOutcome } from './mesh-codes.js';
import { compactDateFromPds, contactDetails, homeAddress } from './patient-fields.js';

/**
 * The PDS MESH response record, in Dorset's 29-column order (batch-formats.md §3.2,
 * dorset-ics/healthcare-data-exchange `PdsMeshRecordResponse.cs`), so whatever reads NHS batch
 * trace responses can read pds-trace's.
 *
 * As in Dorset's response fixtures, the demographic columns carry PDS's record when PDS returned
 * one, in the MESH encodings (dates YYYYMMDD, sex 0/1/2/9); otherwise they echo the request, so a
 * reader can see what was asked. The request is echoed from input columns named as in the MESH
 * request layout (§3.1, any case or separator), else from the normalised query. Input columns the
 * MESH layout has no place for are not carried: use the native layout to keep them.
 *
 * Every row is strictly the layout, whatever its outcome: an echoed field that has a form in the
 * layout (NHS number, sex code, dates, postcode: {@link LAYOUT_FORMS}) is written in that form,
 * from the normalised query when the row has one, else read from the cell; a cell that cannot be
 * read in that form (the reason a row was rejected, often) is left empty rather than written as
 * typed, and the record's code says what was wrong with it. Names and address lines are free text
 * and echo as typed.
 */
export const MESH_RESPONSE_COLUMNS = [
  'UNIQUE REFERENCE',
  'REQ_NHS_NUMBER',
  'FAMILY_NAME',
  'GIVEN_NAME',
  'OTHER_GIVEN_NAME',
  'GENDER',
  'DATE_OF_BIRTH',
  'DATE_OF_DEATH',
  'ADDRESS_LINE1',
  'ADDRESS_LINE2',
  'ADDRESS_LINE3',
  'ADDRESS_LINE4',
  'ADDRESS_LINE5',
  'POSTCODE',
  'GP_PRACTICE_CODE',
  'GP_REGISTRATION_DATE',
  'NHAIS_POSTING_ID',
  'AS_AT_DATE',
  'LOCAL_PATIENT_ID',
  'INTERNAL_ID',
  'TELEPHONE_NUMBER',
  'MOBILE_NUMBER',
  'EMAIL_ADDRESS',
  'SENSITIVITY_FLAG',
  'MPS_ID',
  'ERROR/SUCCESS_CODE',
  'MATCHED_NHS_NO',
  'MATCHED_ALGORITHM_INDICATOR',
  'MATCHED_CONFIDENCE_PERCENTAGE',
] as const;

export type MeshResponseColumn = (typeof MESH_RESPONSE_COLUMNS)[number];

/** Response columns that echo a request column, by the request column's name (§3.1). */
const ECHOED: Partial<Record<MeshResponseColumn, string>> = {
  'UNIQUE REFERENCE': 'UNIQUE REFERENCE',
  REQ_NHS_NUMBER: 'NHS_NO',
  ...Object.fromEntries(
    (
      [
        'FAMILY_NAME', 'GIVEN_NAME', 'OTHER_GIVEN_NAME', 'GENDER', 'DATE_OF_BIRTH', 'DATE_OF_DEATH',
        'ADDRESS_LINE1', 'ADDRESS_LINE2', 'ADDRESS_LINE3', 'ADDRESS_LINE4', 'ADDRESS_LINE5', 'POSTCODE',
        'GP_PRACTICE_CODE', 'GP_REGISTRATION_DATE', 'NHAIS_POSTING_ID', 'AS_AT_DATE', 'LOCAL_PATIENT_ID',
        'INTERNAL_ID', 'TELEPHONE_NUMBER', 'MOBILE_NUMBER', 'EMAIL_ADDRESS',
      ] as const
    ).map((name) => [name, name]),
  ),
};

/** A cell in a field's layout form, or empty when it cannot be read in it. */
type LayoutForm = (cell: string, dates: DateOptions) => string;

const valueOf = (result: FieldResult<string>): string => (result.kind === 'value' ? result.value : '');

/** Dates YYYYMMDD (or YYYYMM, YYYY at the precision known), §3.1 DATE_OF_BIRTH. */
const compactDate: LayoutForm = (cell, dates) => valueOf(normaliseDateOfBirth(cell, dates));

/**
 * The echoed fields whose layout has a form (batch-formats.md §3.1, §6.2, §6.3): ten digits, the
 * Sex codes 0/1/2/9, compact dates, upper-case postcodes with one space before the inward code.
 * An NHS number of ten digits is in the layout's form even with a wrong check digit, so a row
 * rejected for it still shows which number was asked about.
 */
const LAYOUT_FORMS: Partial<Record<MeshResponseColumn, LayoutForm>> = {
  REQ_NHS_NUMBER: (cell) => {
    const digits = cell.replace(/[\s\u00a0-]/g, '');
    return /^\d{10}$/.test(digits) ? digits : '';
  },
  GENDER: (cell) => valueOf(normaliseSex(cell)),
  DATE_OF_BIRTH: compactDate,
  DATE_OF_DEATH: compactDate,
  GP_REGISTRATION_DATE: compactDate,
  AS_AT_DATE: compactDate,
  POSTCODE: (cell) => valueOf(normalisePostcode(cell)),
};

/** `UNIQUE REFERENCE`, `unique_reference` and `Unique-Reference` name the same column. */
function headerKey(header: string): string {
  return header.trim().toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** Where the query holds a request value when the input has no MESH-named column for it. */
function fromQuery(column: MeshResponseColumn, query: PatientQuery | undefined): string | undefined {
  switch (column) {
    case 'UNIQUE REFERENCE':
      return query?.localId;
    case 'REQ_NHS_NUMBER':
      return query?.nhsNumber;
    case 'FAMILY_NAME':
      return query?.familyName;
    case 'GIVEN_NAME':
      return query?.givenName;
    case 'GENDER':
      return query?.sex;
    case 'DATE_OF_BIRTH':
      return query?.dateOfBirth;
    case 'POSTCODE':
      return query?.postcode;
    default:
      return undefined;
  }
}

export interface MeshRowInput {
  cells: readonly string[];
  query?: PatientQuery;
  result: RowResult;
}

/** Builds MESH response records for one input layout (the header lookup is done once). */
export class MeshRecordBuilder {
  private readonly columnIndex = new Map<string, number>();

  /** `dates`: how the file's dates are read (the batch's dayFirst), for echoing them in the layout's form. */
  constructor(
    inputHeaders: readonly string[],
    private readonly dates: DateOptions = { dayFirst: true, today: new Date() },
  ) {
    inputHeaders.forEach((header, index) => {
      const key = headerKey(header);
      if (!this.columnIndex.has(key)) this.columnIndex.set(key, index);
    });
  }

  private requestValue(column: MeshResponseColumn, row: MeshRowInput): string {
    const requestColumn = ECHOED[column];
    const index = requestColumn === undefined ? undefined : this.columnIndex.get(headerKey(requestColumn));
    const queried = fromQuery(column, row.query);
    const form = LAYOUT_FORMS[column];
    if (form) {
      // The normalised query holds these fields in the layout's form already.
      if (queried !== undefined) return queried;
      return index === undefined ? '' : form(row.cells[index] ?? '', this.dates);
    }
    if (index !== undefined) return row.cells[index] ?? '';
    // A reference is required and unique in MESH (code 08); the row number is both.
    if (column === 'UNIQUE REFERENCE') return queried ?? String(row.result.rowNumber);
    return queried ?? '';
  }

  record(row: MeshRowInput): string[] {
    const { result } = row;
    const patient = result.patient;
    const requestNhsNumber = this.requestValue('REQ_NHS_NUMBER', row);
    const outcome = meshOutcome(result, { nhsNumber: requestNhsNumber || undefined });
    const values: Partial<Record<MeshResponseColumn, string>> = {};
    for (const column of MESH_RESPONSE_COLUMNS) {
      if (ECHOED[column] !== undefined) values[column] = this.requestValue(column, row);
    }

    if (patient) {
      const home = homeAddress(patient);
      const lines = home?.lines ?? [];
      const contact = contactDetails(patient.sensitive ? [] : patient.telecoms);
      Object.assign(values, {
        FAMILY_NAME: patient.familyName ?? '',
        GIVEN_NAME: patient.givenNames[0] ?? '',
        OTHER_GIVEN_NAME: patient.givenNames.slice(1).join(' '),
        GENDER: patient.sex ?? '',
        DATE_OF_BIRTH: compactDateFromPds(patient.dateOfBirth),
        DATE_OF_DEATH: compactDateFromPds(patient.dateOfDeath),
        ADDRESS_LINE1: lines[0] ?? '',
        ADDRESS_LINE2: lines[1] ?? '',
        ADDRESS_LINE3: lines[2] ?? '',
        ADDRESS_LINE4: lines[3] ?? '',
        ADDRESS_LINE5: lines[4] ?? '',
        POSTCODE: home?.postcode ?? '',
        GP_PRACTICE_CODE: patient.gpPractice?.odsCode ?? '',
        TELEPHONE_NUMBER: contact.telephone,
        MOBILE_NUMBER: contact.mobile,
        EMAIL_ADDRESS: contact.email,
      } satisfies Partial<Record<MeshResponseColumn, string>>);
    }

    // S as in DSP's loader sample; N for a record known not to be restricted, as in Dorset's fixtures.
    values.SENSITIVITY_FLAG = patient?.sensitive === true ? 'S' : patient?.sensitive === false ? 'N' : '';
    // The MPS internal id of NHS Digital's service: pds-trace has none.
    values.MPS_ID = '';
    values['ERROR/SUCCESS_CODE'] = outcome.code;
    values.MATCHED_NHS_NO = outcome.matchedNhsNumber;
    values.MATCHED_ALGORITHM_INDICATOR = outcome.algorithmIndicator;
    values.MATCHED_CONFIDENCE_PERCENTAGE = outcome.confidencePercentage;

    // Every value from a person or PDS is guarded; codes and sentinels pass unchanged through it.
    return MESH_RESPONSE_COLUMNS.map((column) => guardFormula(values[column] ?? ''));
  }
}
