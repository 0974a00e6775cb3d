import { describe, expect, it } from 'vitest';
import type { InputRow } from '../../src/csv/input/types.js';
import { MESH_COLUMNS, MESH_FIELDS } from '../../src/csv/input/mesh-layout.js';
import { localColumns, localDemographics, localIdentity } from '../../src/quality/local-record.js';

const DATES = { dayFirst: true, today: new Date('2025-06-01T00:00:00Z') };

function row(cells: string[], query?: InputRow['query']): InputRow {
  return { rowNumber: 1, line: 2, cells, flags: [], ...(query ? { query } : {}) };
}

describe('localColumns', () => {
  it('finds date-of-death and GP practice columns the reader does not map, by their header words', () => {
    const columns = localColumns({ headers: ['MRN', 'NHS No', 'D.O.D.', 'Registered GP Practice Code', 'GP Practice Name'], fields: { localId: 0, nhsNumber: 1 } });
    expect(columns.dateOfDeath).toBe(2);
    expect(columns.gpPractice).toBe(3);
    expect(localColumns({ headers: ['Date of Death', 'gp_code'], fields: {} })).toMatchObject({ dateOfDeath: 0, gpPractice: 1 });
  });

  it('does not take a practice name, address or registration date for the practice code', () => {
    const columns = localColumns({ headers: ['GP Practice Name', 'Practice Address', 'GP Registration Date'], fields: {} });
    expect(columns.gpPractice).toBeUndefined();
    expect(columns.dateOfDeath).toBeUndefined();
  });

  it('finds both in the PDS MESH request layout, and its address lines in order', () => {
    const columns = localColumns({ headers: [...MESH_COLUMNS], fields: MESH_FIELDS });
    expect(columns.dateOfDeath).toBe(MESH_COLUMNS.indexOf('DATE_OF_DEATH'));
    expect(columns.gpPractice).toBe(MESH_COLUMNS.indexOf('GP_PRACTICE_CODE'));
    expect(columns.address).toEqual([9, 10, 11, 12, 13]);
  });
});

describe('localDemographics', () => {
  const columns = localColumns({ headers: ['id', 'surname', 'dob', 'addr1', 'addr2', 'date of death', 'gp practice'], fields: { localId: 0, familyName: 1, dateOfBirth: 2, address1: 3, address2: 4 } });

  it('takes names, date of birth, sex and postcode from the normalised query, the rest from the cells', () => {
    const local = localDemographics(
      row(['L1', ' Testpatient ', '04/07/1980', ' 12 Example Street ', 'Leeds', '15/01/2024', ' Y90001 '], { familyName: 'Testpatient', dateOfBirth: '19800704', sex: '2', postcode: 'LS1 6AE' }),
      columns,
      DATES,
    );
    expect(local).toEqual({
      familyName: 'Testpatient',
      dateOfBirth: '19800704',
      sex: '2',
      postcode: 'LS1 6AE',
      addressLines: ['12 Example Street', 'Leeds'],
      dateOfDeath: '20240115',
      gpPracticeCode: 'Y90001',
    });
  });

  it('reads a database "no value" as an empty cell, and keeps a date of death that is not a date as text', () => {
    const local = localDemographics(row(['L1', 'T', '1980', '', '', 'NULL', 'n/a']), columns, DATES);
    expect(local).toMatchObject({ dateOfDeath: '', gpPracticeCode: '', addressLines: ['', ''] });
    expect(localDemographics(row(['L1', 'T', '1980', '', '', 'died in 2024', '']), columns, DATES).dateOfDeath).toBe('died in 2024');
  });

  it('leaves out the columns a file does not have', () => {
    const bare = localColumns({ headers: ['nhs', 'dob'], fields: { nhsNumber: 0, dateOfBirth: 1 } });
    expect(localDemographics(row(['9990000018', '1980'], { nhsNumber: '9990000018', dateOfBirth: '1980' }), bare, DATES)).toEqual({ dateOfBirth: '1980' });
  });
});

describe('localIdentity', () => {
  it('names the record with the file\'s own values, trimmed, for the back office', () => {
    const columns = localColumns({ headers: ['MRN', 'NHS', 'Surname', 'Forename', 'DOB', 'Sex', 'Postcode'], fields: { localId: 0, nhsNumber: 1, familyName: 2, givenName: 3, dateOfBirth: 4, sex: 5, postcode: 6 } });
    expect(localIdentity(row([' L1 ', '999 000 0018', 'TESTPATIENT', 'Ada', '04/07/1980', 'F', 'ls16ae']), columns)).toEqual({
      localId: 'L1',
      nhsNumber: '999 000 0018',
      familyName: 'TESTPATIENT',
      givenName: 'Ada',
      dateOfBirth: '04/07/1980',
      sex: 'F',
      postcode: 'ls16ae',
    });
  });
});
