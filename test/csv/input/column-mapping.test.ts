import { describe, expect, it } from 'vitest';
import { matchColumns, missingTraceFields } from '../../../src/csv/input/column-mapping.js';

describe('matchColumns', () => {
  it.each([
    [['NHS_NO', 'SURNAME', 'FORENAME', 'DOB', 'SEX', 'POSTCODE']],
    [['nhs number', 'family_name', 'given_name', 'date_of_birth', 'gender', 'post_code']],
    [['NHSNumber', 'LastName', 'FirstName', 'BirthDate', 'Gender', 'PostalCode']],
    [['Patient NHS No', 'Pt Surname', 'Pt Forenames', 'D.O.B.', 'Sex Code', 'Patient Postcode']],
  ])('maps the six traced fields from %j', (headers) => {
    expect(matchColumns(headers).fields).toMatchObject({ nhsNumber: 0, familyName: 1, givenName: 2, dateOfBirth: 3, sex: 4, postcode: 5 });
  });

  it.each(['Local ID', 'MRN', 'EMIS Number', 'SystmOne ID', 'Hospital No', 'Study ID', 'UNIQUE REFERENCE', 'Case Ref'])(
    'takes %j as the local id when it is the only identifier column',
    (header) => {
      expect(matchColumns(['NHS Number', 'DOB', header]).fields.localId).toBe(2);
    },
  );

  it.each([
    'Mother NHS Number',
    'NHS Number Status Indicator',
    'Previous Surname',
    'Surname at Birth',
    'Other Given Name',
    'Middle Name',
    'Preferred Forename',
    'Date of Death',
    'GP Practice Postcode',
    'Gender Identity',
    'PDS NHS Number',
    'Traced DOB',
    'Telephone Number',
    'Episode ID',
  ])('does not take %j as a field of the patient', (header) => {
    const { fields } = matchColumns(['NHS Number', 'DOB', header]);
    expect(Object.values(fields)).not.toContain(2);
  });

  it('reports two columns that could hold one traced field as ambiguous instead of choosing', () => {
    const { fields, ambiguous } = matchColumns(['Surname', 'Family Name', 'DOB']);
    expect(fields.familyName).toBeUndefined();
    expect(ambiguous).toEqual([{ field: 'familyName', columns: ['Surname', 'Family Name'] }]);
  });

  it('leaves the local id unmapped, with a warning, when two columns could be it', () => {
    const { fields, warnings, ambiguous } = matchColumns(['NHS Number', 'DOB', 'Study ID', 'MRN']);
    expect(fields.localId).toBeUndefined();
    expect(ambiguous).toEqual([]);
    expect(warnings.join('\n')).toContain('"Study ID", "MRN" could each be the local id');
  });

  it('does not use a column that could be two different fields, and says so', () => {
    const { fields, warnings } = matchColumns(['NHS Number', 'DOB', 'Surname Forename']);
    expect(fields.familyName).toBeUndefined();
    expect(fields.givenName).toBeUndefined();
    expect(warnings.join('\n')).toContain('"Surname Forename" could be any of familyName, givenName');
  });

  it('puts numbered address columns on their line and unnumbered ones on the lines left, in order', () => {
    const { fields } = matchColumns(['NHS Number', 'DOB', 'Street', 'Address Line 2', 'Town', 'County']);
    expect(fields).toMatchObject({ address1: 2, address2: 3, address3: 4, address4: 5 });
  });

  it('lists columns it does not use', () => {
    expect(matchColumns(['NHS Number', 'DOB', 'Ethnicity', '']).warnings).toContain('columns kept but not used for tracing: "Ethnicity"');
  });
});

describe('missingTraceFields', () => {
  it('needs a date of birth with an NHS number, or with a family name and sex', () => {
    expect(missingTraceFields({ nhsNumber: 0, dateOfBirth: 1 })).toEqual([]);
    expect(missingTraceFields({ familyName: 0, sex: 1, dateOfBirth: 2 })).toEqual([]);
    expect(missingTraceFields({ nhsNumber: 0 })).toEqual(['dateOfBirth']);
    expect(missingTraceFields({ familyName: 0, dateOfBirth: 1 })).toEqual(['nhsNumber', 'sex']);
  });
});
