import type { PatientQuery } from '../../domain/demographics.js';
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

  constructor(inputHeaders: readonly string[]) {
    inputHeaders.forEach((header, index) => {
      const key = headerKey(header);
      if (!this.columnIndex.has(key)) this.columnIndex.set(key, index);
    });
  }

  private requestValue(column: MeshResponseColumn, row: MeshRowInput): string {
    const requestColumn = ECHOED[column];
    const index = requestColumn === undefined ? undefined : this.columnIndex.get(headerKey(requestColumn));
    if (index !== undefined) return row.cells[index] ?? '';
    const queried = fromQuery(column, row.query);
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
