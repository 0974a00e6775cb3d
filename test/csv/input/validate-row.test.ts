import { describe, expect, it } from 'vitest';
import { validateRow, type RowContext } from '../../../src/csv/input/validate-row.js';

const headers = ['NHS', 'Surname', 'Forename', 'DOB', 'Sex', 'Postcode', 'Ref'];
const ctx: RowContext = {
  fields: { nhsNumber: 0, familyName: 1, givenName: 2, dateOfBirth: 3, sex: 4, postcode: 5, localId: 6 },
  headers,
  dayFirst: true,
  today: new Date(2025, 5, 30),
};

describe('validateRow', () => {
  it('builds the normalised query for a complete row', () => {
    expect(validateRow(['999 000 0018', ' Smith ', 'Ann  Marie', '03/04/2001', 'f', 'ls11aa', ' R1 '], ctx)).toEqual({
      query: { nhsNumber: '9990000018', familyName: 'Smith', givenName: 'Ann Marie', dateOfBirth: '20010403', sex: '2', postcode: 'LS1 1AA', localId: 'R1' },
      flags: [],
    });
  });

  it('names the field and its column in the message, never the value', () => {
    const { problem } = validateRow(['9990000019', 'Smith', '', '03/04/2001', 'F', '', ''], ctx);
    expect(problem).toEqual({ reason: 'nhs_number_check_digit', field: 'nhsNumber', message: 'NHS number (column "NHS"): NHS number fails the Modulus 11 check digit' });
    expect(problem!.message).not.toContain('9990000019');
  });

  it('reports an invalid NHS number even when the demographics alone would be enough to search', () => {
    expect(validateRow(['9990000019', 'Smith', 'Ann', '03/04/2001', 'F', 'LS1 1AA', ''], ctx).problem?.reason).toBe('nhs_number_check_digit');
  });

  it('reports the first problem in field order: NHS number, date of birth, names, sex, postcode', () => {
    expect(validateRow(['', '', '', '2099-01-01', 'X', 'NFA', ''], ctx).problem?.reason).toBe('date_of_birth_in_future');
    expect(validateRow(['', 'Smith', '', '2001-01-01', 'X', 'NFA', ''], ctx).problem?.reason).toBe('sex_unrecognised');
    expect(validateRow(['', 'Smith', '', '2001-01-01', 'M', 'NFA', ''], ctx).problem?.reason).toBe('postcode_format');
  });

  it('accepts an NHS number with a date of birth and nothing else', () => {
    expect(validateRow(['9990000018', '', '', '2001', '', '', ''], ctx)).toEqual({ query: { nhsNumber: '9990000018', dateOfBirth: '2001' }, flags: [] });
  });

  it('needs a family name and sex when there is no NHS number', () => {
    expect(validateRow(['', '', 'Ann', '2001-01-01', 'F', '', ''], ctx).problem).toMatchObject({ reason: 'missing_family_name', field: 'familyName' });
    expect(validateRow(['', 'Smith', 'Ann', '2001-01-01', '', '', ''], ctx).problem).toMatchObject({ reason: 'missing_sex', field: 'sex' });
    expect(validateRow(['', 'Smith', '', '2001-01-01', 'F', '', ''], ctx).query).toEqual({ familyName: 'Smith', dateOfBirth: '20010101', sex: '2' });
  });

  it('needs a date of birth', () => {
    expect(validateRow(['9990000018', 'Smith', 'Ann', '', 'F', '', ''], ctx).problem).toMatchObject({ reason: 'missing_date_of_birth', field: 'dateOfBirth', message: 'date of birth (column "DOB"): the date of birth is empty' });
  });

  it('passes the Excel serial flag through to the row', () => {
    expect(validateRow(['9990000018', '', '', '36984', '', '', ''], ctx).flags).toEqual(['date_of_birth_excel_serial']);
  });
});
