import { describe, expect, it } from 'vitest';
import { headerWords } from '../../../src/csv/input/header-words.js';

describe('headerWords', () => {
  it.each([
    ['NHS_NO', ['nhs', 'number']],
    ['nhs number', ['nhs', 'number']],
    ['NHSNumber', ['nhs', 'number']],
    ['NHSNO', ['nhs', 'number']],
    ['N.H.S. No.', ['nhs', 'number']],
    ['Patient NHS Nos', ['patient', 'nhs', 'number']],
    ['D.O.B.', ['date', 'birth']],
    ['DateOfBirth', ['date', 'birth']],
    ['date_of_birth', ['date', 'birth']],
    ['Birth Date', ['birth', 'date']],
    ['FAMILYNAME', ['family', 'name']],
    ['Forenames', ['forename']],
    ['Pt Forename(s)', ['patient', 'forename', 's']],
    ['Fname', ['first', 'name']],
    ['PostCode', ['post', 'code']],
    ['Address1', ['address', '1']],
    ['ADD_LINE_2', ['address', 'line', '2']],
    ['AddressLine3', ['address', 'line', '3']],
    ['E-mail', ['e', 'email']],
    ['patientID', ['patient', 'id']],
    ['Case Ref', ['case', 'reference']],
  ])('reduces %j to %j', (header, words) => {
    expect(headerWords(header)).toEqual(words);
  });
});
