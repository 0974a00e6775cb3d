import { describe, expect, it } from 'vitest';
import type { PatientQuery } from '../../src/domain/demographics.js';
import { INTERACTIONS, type Interaction } from '../../src/smsp/interactions.js';
import { checkQuery } from '../../src/smsp/local-checks.js';

// Synthetic data only: NHS numbers from the never-issued 999 range with valid check digits.
const NHS_NUMBER = '9990000018';
const BAD_CHECK_DIGIT = '9990000017';

/** A query every interaction accepts: full date, no wildcards, every field well formed. */
const VALID: PatientQuery = {
  nhsNumber: NHS_NUMBER,
  familyName: 'SMITH',
  givenName: 'JANE',
  dateOfBirth: '19800229',
  sex: '2',
  postcode: 'LS1 4HY',
  localId: 'ROW-0001',
};

const SEARCHES: Interaction[] = ['getNHSNumber', 'getPatientDetailsBySearch'];
const BY_NHS_NUMBER: Interaction[] = ['verifyNHSNumber', 'getPatientDetailsByNHSNumber'];
const { nhsNumber: _withoutNhsNumber, ...SEARCH_QUERY } = VALID;

describe('checkQuery accepts well-formed queries', () => {
  it.each(INTERACTIONS)('accepts a complete valid query for %s', (interaction) => {
    expect(checkQuery(interaction, VALID)).toBeUndefined();
  });

  it.each(BY_NHS_NUMBER)('%s needs only NHS number and date of birth', (interaction) => {
    expect(checkQuery(interaction, { nhsNumber: NHS_NUMBER, dateOfBirth: '19800101' })).toBeUndefined();
  });

  it.each(SEARCHES)('%s needs only family name, sex and date of birth', (interaction) => {
    expect(checkQuery(interaction, { familyName: 'SMITH', sex: '1', dateOfBirth: '19800101' })).toBeUndefined();
  });

  it('getPatientDetails with an NHS number needs only the date of birth besides it', () => {
    expect(checkQuery('getPatientDetails', { nhsNumber: NHS_NUMBER, dateOfBirth: '19800101' })).toBeUndefined();
  });
});

describe('checkQuery required fields', () => {
  it.each([
    ['verifyNHSNumber', { dateOfBirth: '19800101' }, 'nhsNumber', 'missing_nhs_number'],
    ['getPatientDetailsByNHSNumber', { dateOfBirth: '19800101', nhsNumber: '   ' }, 'nhsNumber', 'missing_nhs_number'],
    ['verifyNHSNumber', { nhsNumber: NHS_NUMBER, dateOfBirth: '' }, 'dateOfBirth', 'missing_date_of_birth'],
    ['getNHSNumber', { sex: '1', dateOfBirth: '19800101' }, 'familyName', 'missing_family_name'],
    ['getPatientDetailsBySearch', { familyName: 'SMITH', dateOfBirth: '19800101' }, 'sex', 'missing_sex'],
    ['getPatientDetailsBySearch', { familyName: 'SMITH', sex: '1', dateOfBirth: '' }, 'dateOfBirth', 'missing_date_of_birth'],
    // Without an NHS number getPatientDetails is a search and needs its fields (client convention).
    ['getPatientDetails', { dateOfBirth: '19800101', sex: '1' }, 'familyName', 'missing_family_name'],
    ['getPatientDetails', { dateOfBirth: '19800101', familyName: 'SMITH' }, 'sex', 'missing_sex'],
    ['getPatientDetails', { nhsNumber: NHS_NUMBER, dateOfBirth: '' }, 'dateOfBirth', 'missing_date_of_birth'],
  ] as [Interaction, PatientQuery, keyof PatientQuery, string][])(
    '%s rejects %j: %s is required',
    (interaction, query, field, reason) => {
      expect(checkQuery(interaction, query)).toMatchObject({ field, reason });
    },
  );
});

describe('checkQuery NHS number', () => {
  it('rejects a number that is not ten digits', () => {
    for (const nhsNumber of ['999000001', '99900000181', '999 000 0018', '999000001X']) {
      expect(checkQuery('verifyNHSNumber', { ...VALID, nhsNumber })).toMatchObject({ field: 'nhsNumber', reason: 'nhs_number_format' });
    }
  });

  it('rejects ten digits with a wrong Modulus 11 check digit', () => {
    expect(checkQuery('verifyNHSNumber', { ...VALID, nhsNumber: BAD_CHECK_DIGIT })).toMatchObject({
      field: 'nhsNumber',
      reason: 'nhs_number_check_digit',
    });
  });

  it('ignores the NHS number for getNHSNumber, which does not send it', () => {
    expect(checkQuery('getNHSNumber', { ...VALID, nhsNumber: BAD_CHECK_DIGIT })).toBeUndefined();
  });
});

describe('checkQuery date of birth', () => {
  it('accepts a real full date, including 29 February in a leap year', () => {
    for (const dateOfBirth of ['19800229', '20000229', '19991231', '20240101']) {
      expect(checkQuery('verifyNHSNumber', { ...VALID, dateOfBirth })).toBeUndefined();
    }
  });

  it('rejects shapes other than YYYYMMDD, YYYYMM and YYYY', () => {
    for (const dateOfBirth of ['1980-01-01', '198001011', '2014051200', '80', '19800']) {
      expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, dateOfBirth })).toMatchObject({
        field: 'dateOfBirth',
        reason: 'date_of_birth_format',
      });
    }
  });

  it('rejects dates that are not on the calendar', () => {
    for (const dateOfBirth of ['19000229', '19810229', '19800431', '19801301', '19800100', '19800001', '00000101', '198013']) {
      expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, dateOfBirth })).toMatchObject({
        field: 'dateOfBirth',
        reason: 'date_of_birth_format',
      });
    }
  });

  it.each([...SEARCHES, 'getPatientDetails'] as Interaction[])('%s accepts a partial YYYYMM or YYYY date in a search', (interaction) => {
    for (const dateOfBirth of ['198002', '1980']) {
      expect(checkQuery(interaction, { ...SEARCH_QUERY, dateOfBirth })).toBeUndefined();
    }
  });

  it.each([...BY_NHS_NUMBER, 'getPatientDetails'] as Interaction[])('%s with an NHS number rejects a partial date', (interaction) => {
    expect(checkQuery(interaction, { ...VALID, dateOfBirth: '198002' })).toMatchObject({
      field: 'dateOfBirth',
      reason: 'date_of_birth_partial_not_allowed',
    });
  });
});

describe('checkQuery sex', () => {
  it('accepts 0, 1, 2 and 9', () => {
    for (const sex of ['0', '1', '2', '9'] as const) expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, sex })).toBeUndefined();
  });

  it('rejects any other code', () => {
    for (const sex of ['3', 'M', 'F', '10']) {
      expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, sex: sex as PatientQuery['sex'] })).toMatchObject({
        field: 'sex',
        reason: 'sex_code',
      });
    }
  });
});

describe('checkQuery postcode', () => {
  it('accepts upper-case letters and digits with at most one space, up to eight characters', () => {
    for (const postcode of ['LS1 4HY', 'SW1A 1AA', 'LS14HY', 'M1 1AE']) {
      expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, postcode })).toBeUndefined();
    }
  });

  it('rejects other shapes', () => {
    for (const postcode of ['ls1 4hy', 'LS1  4HY', 'L S1 4HY', ' LS1 4HY', 'LS1 4HY ', 'LS1-4HY']) {
      expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, postcode })).toMatchObject({ field: 'postcode', reason: 'postcode_format' });
    }
  });

  it('rejects more than eight characters as too long', () => {
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, postcode: 'SW1A 1AAA' })).toMatchObject({
      field: 'postcode',
      reason: 'field_too_long',
    });
  });

  it('accepts a trailing wildcard after at least two characters in a search', () => {
    for (const postcode of ['LS*', 'LS1*', 'LS1 4*']) {
      expect(checkQuery('getPatientDetailsBySearch', { ...SEARCH_QUERY, postcode })).toBeUndefined();
    }
  });

  it('rejects a wildcard with fewer than two characters before it or not at the end', () => {
    for (const postcode of ['L*', '*', 'LS*1']) {
      expect(checkQuery('getPatientDetailsBySearch', { ...SEARCH_QUERY, postcode })).toMatchObject({
        field: 'postcode',
        reason: 'wildcard_not_allowed',
      });
    }
  });

  it('rejects a postcode wildcard in getPatientDetails when an NHS number makes it a look-up', () => {
    expect(checkQuery('getPatientDetails', { ...VALID, postcode: 'LS1*' })).toMatchObject({
      field: 'postcode',
      reason: 'wildcard_not_allowed',
    });
  });
});

describe('checkQuery names', () => {
  it('accepts accents, apostrophes, hyphens, spaces and XML specials', () => {
    const query = { ...VALID, familyName: "O'Brien-Ørsted & <Sons>", givenName: 'Zoë "Ñuñez"' };
    for (const interaction of INTERACTIONS) expect(checkQuery(interaction, query)).toBeUndefined();
  });

  it.each(SEARCHES)('%s accepts a trailing wildcard in family and given name after two characters', (interaction) => {
    expect(checkQuery(interaction, { ...SEARCH_QUERY, familyName: 'SM*', givenName: 'JA*' })).toBeUndefined();
  });

  it.each(BY_NHS_NUMBER)('%s rejects a wildcard in a name', (interaction) => {
    expect(checkQuery(interaction, { ...VALID, familyName: 'SMI*' })).toMatchObject({ field: 'familyName', reason: 'wildcard_not_allowed' });
    expect(checkQuery(interaction, { ...VALID, givenName: 'JA*' })).toMatchObject({ field: 'givenName', reason: 'wildcard_not_allowed' });
  });

  it('rejects a wildcard after fewer than two characters or before the end', () => {
    for (const familyName of ['S*', '*', 'SM*TH', 'SM**']) {
      expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, familyName })).toMatchObject({
        field: 'familyName',
        reason: 'wildcard_not_allowed',
      });
    }
  });

  it('rejects C0 and C1 control characters and characters XML 1.0 cannot carry', () => {
    for (const bad of ['\u0000', '\b', '\t', '\n', '\r', '\u001F', '\u007F', '\u0085', '\u009F', '\uD800', '\uDC00', '\uFFFE', '\uFFFF']) {
      expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, familyName: `SM${bad}ITH` })).toMatchObject({
        field: 'familyName',
        reason: 'invalid_characters',
      });
      expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, givenName: `JA${bad}NE` })).toMatchObject({
        field: 'givenName',
        reason: 'invalid_characters',
      });
    }
  });

  it('accepts characters outside the Basic Multilingual Plane (a well-formed surrogate pair)', () => {
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, givenName: 'JA𝒩E' })).toBeUndefined();
  });

  it('limits family and given name to 35 characters, counting code points', () => {
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, familyName: 'A'.repeat(35) })).toBeUndefined();
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, familyName: '𝒩'.repeat(35) })).toBeUndefined();
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, familyName: 'A'.repeat(36) })).toMatchObject({
      field: 'familyName',
      reason: 'field_too_long',
    });
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, givenName: 'B'.repeat(36) })).toMatchObject({
      field: 'givenName',
      reason: 'field_too_long',
    });
  });
});

describe('checkQuery local identifier', () => {
  it('accepts up to 64 characters and rejects more', () => {
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, localId: 'X'.repeat(64) })).toBeUndefined();
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, localId: 'X'.repeat(65) })).toMatchObject({
      field: 'localId',
      reason: 'field_too_long',
    });
  });

  it('rejects control characters', () => {
    expect(checkQuery('getNHSNumber', { ...SEARCH_QUERY, localId: 'ROW\u00001' })).toMatchObject({
      field: 'localId',
      reason: 'invalid_characters',
    });
  });

  it('ignores the local identifier for verifyNHSNumber, which does not send it', () => {
    expect(checkQuery('verifyNHSNumber', { ...VALID, localId: 'X'.repeat(65) })).toBeUndefined();
  });
});

describe('checkQuery messages', () => {
  it('name the field and rule but never the value', () => {
    const failures = [
      checkQuery('verifyNHSNumber', { ...VALID, nhsNumber: BAD_CHECK_DIGIT }),
      checkQuery('verifyNHSNumber', { ...VALID, dateOfBirth: '19810229' }),
      checkQuery('getNHSNumber', { ...SEARCH_QUERY, familyName: 'ZYXWV\u0007' }),
      checkQuery('getNHSNumber', { ...SEARCH_QUERY, postcode: 'QQ9 9QQ!' }),
    ];
    expect(failures.map((failure) => failure?.message)).toEqual([
      'NHS number fails the Modulus 11 check digit',
      'date of birth is not a real calendar date',
      'family name must not hold control characters or characters XML cannot carry',
      'postcode must be letters A-Z and digits with at most one space',
    ]);
    for (const message of failures.map((failure) => failure?.message ?? '')) {
      for (const value of [BAD_CHECK_DIGIT, '19810229', 'ZYXWV', 'QQ9']) expect(message).not.toContain(value);
    }
  });

  it('reports the first failure in a fixed field order', () => {
    expect(checkQuery('getPatientDetails', { nhsNumber: BAD_CHECK_DIGIT, dateOfBirth: 'x', sex: '7' as never })).toMatchObject({
      field: 'nhsNumber',
    });
  });
});
