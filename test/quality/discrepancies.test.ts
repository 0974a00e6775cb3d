import { describe, expect, it } from 'vitest';
import type { PdsPatient } from '../../src/domain/demographics.js';
import { DISCREPANCY_FIELDS } from '../../src/domain/findings.js';
import { compareWithPds, type LocalDemographics } from '../../src/quality/discrepancies.js';

/** A synthetic PDS record (test-range NHS number, invented person and place). */
function pds(overrides: Partial<PdsPatient> = {}): PdsPatient {
  return {
    nhsNumber: '9990000018',
    givenNames: ['Ada', 'Mary'],
    familyName: "O'Testpatient-Smith",
    sex: '2',
    dateOfBirth: '19800704',
    addresses: [
      { use: 'TMP', lines: ['1 Temporary Road', '', '', 'Elsewhere', ''], postcode: 'ZZ9 9ZZ' },
      { use: 'H', lines: ['12 Example Street', '', 'Sampletown', 'Leeds', 'West Yorkshire'], postcode: 'LS1 6AE' },
    ],
    telecoms: [],
    gpPractice: { odsCode: 'Y90001' },
    sensitive: false,
    ...overrides,
  };
}

/** The same person as a local system holds them, in agreement with PDS. */
const agreeing: LocalDemographics = {
  familyName: "O'Testpatient-Smith",
  givenName: 'Ada',
  dateOfBirth: '19800704',
  sex: '2',
  postcode: 'LS1 6AE',
  addressLines: ['12 Example Street', 'Sampletown'],
};

const fieldsOf = (local: LocalDemographics, patient = pds()) => compareWithPds(local, patient).map((d) => d.field);

describe('compareWithPds', () => {
  it('finds nothing when the local record agrees with PDS', () => {
    expect(compareWithPds(agreeing, pds())).toEqual([]);
  });

  describe('names', () => {
    it('ignores case, repeated spaces, spaces around hyphens and curly apostrophes', () => {
      expect(fieldsOf({ ...agreeing, familyName: '  o’testpatient - SMITH ', givenName: 'ADA' })).toEqual([]);
    });

    it('reports a different family name with both values as written', () => {
      expect(compareWithPds({ ...agreeing, familyName: 'Testpatient' }, pds())).toEqual([
        { field: 'family_name', local: 'Testpatient', pds: "O'Testpatient-Smith" },
      ]);
    });

    it('keeps accents significant: Zoe is not Zoë', () => {
      expect(fieldsOf({ ...agreeing, givenName: 'Zoe' }, pds({ givenNames: ['Zoë'] }))).toEqual(['given_name']);
    });

    it('accepts the first given name or all of them, and reports a middle name used as the first', () => {
      expect(fieldsOf({ ...agreeing, givenName: 'Ada Mary' })).toEqual([]);
      expect(compareWithPds({ ...agreeing, givenName: 'Mary' }, pds())).toEqual([{ field: 'given_name', local: 'Mary', pds: 'Ada Mary' }]);
    });

    it('does not compare a wildcard search pattern or a name PDS did not return', () => {
      expect(fieldsOf({ ...agreeing, familyName: 'TES*', givenName: 'A*' })).toEqual([]);
      expect(fieldsOf({ ...agreeing, familyName: 'Other' }, pds({ familyName: undefined, givenNames: [] }))).toEqual([]);
    });
  });

  describe('date of birth', () => {
    it('compares at the lower precision of the two', () => {
      expect(fieldsOf({ ...agreeing, dateOfBirth: '198007' })).toEqual([]);
      expect(fieldsOf({ ...agreeing, dateOfBirth: '1980' }, pds({ dateOfBirth: '198007' }))).toEqual([]);
    });

    it('reports a different date as ISO dates at each side\'s precision', () => {
      expect(compareWithPds({ ...agreeing, dateOfBirth: '19800705' }, pds())).toEqual([{ field: 'date_of_birth', local: '1980-07-05', pds: '1980-07-04' }]);
      expect(compareWithPds({ ...agreeing, dateOfBirth: '198106' }, pds())).toEqual([{ field: 'date_of_birth', local: '1981-06', pds: '1980-07-04' }]);
    });
  });

  it('reports a different sex code, "not known" locally included', () => {
    expect(compareWithPds({ ...agreeing, sex: '1' }, pds())).toEqual([{ field: 'sex', local: '1', pds: '2' }]);
    expect(compareWithPds({ ...agreeing, sex: '0' }, pds())).toEqual([{ field: 'sex', local: '0', pds: '2' }]);
  });

  describe('postcode and address', () => {
    it('compares the postcode with the home address, ignoring spaces and case', () => {
      expect(fieldsOf({ ...agreeing, postcode: 'ls16ae' })).toEqual([]);
      // ZZ9 9ZZ is the temporary address's: the home one counts.
      expect(compareWithPds({ ...agreeing, postcode: 'ZZ9 9ZZ' }, pds())).toEqual([{ field: 'postcode', local: 'ZZ9 9ZZ', pds: 'LS1 6AE' }]);
    });

    it('accepts fewer lines, lines split at commas, full stops, case and a trailing postcode line', () => {
      expect(fieldsOf({ ...agreeing, addressLines: ['12 example street, Sampletown', 'LEEDS.', '', 'LS1 6AE'] })).toEqual([]);
      expect(fieldsOf({ ...agreeing, addressLines: ['12 Example Street', '', 'Leeds'] })).toEqual([]);
    });

    it('reports a different street with the local lines and PDS\'s home address', () => {
      expect(compareWithPds({ ...agreeing, addressLines: ['14 Example Street', 'Sampletown'] }, pds())).toEqual([
        { field: 'address', local: '14 Example Street, Sampletown', pds: '12 Example Street, Sampletown, Leeds, West Yorkshire' },
      ]);
    });

    it('reports lines in another order', () => {
      expect(fieldsOf({ ...agreeing, addressLines: ['Sampletown', '12 Example Street'] })).toEqual(['address']);
    });

    it('compares nothing of where the patient lives when PDS withheld it (S-flag) or the file holds no address', () => {
      const withheld = pds({ sensitive: true, addresses: [], gpPractice: undefined });
      expect(fieldsOf({ ...agreeing, postcode: 'ZZ9 9ZZ', addressLines: ['Somewhere else'], gpPracticeCode: 'Y90002' }, withheld)).toEqual([]);
      expect(fieldsOf({ ...agreeing, addressLines: ['', ''] })).toEqual([]);
    });
  });

  describe('date of death', () => {
    it('is not compared when the file has no such column: a field the input did not have is never a discrepancy', () => {
      expect(compareWithPds(agreeing, pds({ dateOfDeath: '20240115' }))).toEqual([]);
    });

    it('reports it when the file\'s column is empty or holds another date, not when the dates agree', () => {
      expect(compareWithPds({ ...agreeing, dateOfDeath: '' }, pds({ dateOfDeath: '20240115' }))).toEqual([{ field: 'date_of_death', pds: '2024-01-15' }]);
      expect(compareWithPds({ ...agreeing, dateOfDeath: '20240116' }, pds({ dateOfDeath: '20240115' }))).toEqual([{ field: 'date_of_death', local: '2024-01-16', pds: '2024-01-15' }]);
      expect(fieldsOf({ ...agreeing, dateOfDeath: '202401' }, pds({ dateOfDeath: '20240115' }))).toEqual([]);
    });

    it('reports a local date of death PDS does not hold, even one that is not a date', () => {
      expect(compareWithPds({ ...agreeing, dateOfDeath: '20240115' }, pds())).toEqual([{ field: 'date_of_death', local: '2024-01-15' }]);
      expect(compareWithPds({ ...agreeing, dateOfDeath: 'deceased' }, pds())).toEqual([{ field: 'date_of_death', local: 'deceased' }]);
      expect(fieldsOf({ ...agreeing, dateOfDeath: '' })).toEqual([]);
    });
  });

  describe('GP practice', () => {
    it('is not compared when the file has no GP practice column', () => {
      expect(fieldsOf(agreeing)).toEqual([]);
    });

    it('reports a different, missing or unknown practice when the file has the column', () => {
      expect(fieldsOf({ ...agreeing, gpPracticeCode: 'y90001' })).toEqual([]);
      expect(compareWithPds({ ...agreeing, gpPracticeCode: 'Y90002' }, pds())).toEqual([{ field: 'gp_practice', local: 'Y90002', pds: 'Y90001' }]);
      expect(compareWithPds({ ...agreeing, gpPracticeCode: '' }, pds())).toEqual([{ field: 'gp_practice', pds: 'Y90001' }]);
      expect(compareWithPds({ ...agreeing, gpPracticeCode: 'Y90002' }, pds({ gpPractice: undefined }))).toEqual([{ field: 'gp_practice', local: 'Y90002' }]);
    });
  });

  it('lists several differences in field order', () => {
    const local: LocalDemographics = { ...agreeing, familyName: 'Other', sex: '1', postcode: 'LS2 7AA', dateOfDeath: '', gpPracticeCode: 'Y90002' };
    const fields = fieldsOf(local, pds({ dateOfDeath: '2024' }));
    expect(fields).toEqual(['family_name', 'sex', 'postcode', 'date_of_death', 'gp_practice']);
    expect(fields).toEqual(DISCREPANCY_FIELDS.filter((f) => fields.includes(f)));
  });
});
