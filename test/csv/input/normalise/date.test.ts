import { describe, expect, it } from 'vitest';
import { normaliseDateOfBirth } from '../../../../src/csv/input/normalise/date.js';

const today = new Date(2025, 5, 30, 12, 0, 0);
const ukDate = (raw: string) => normaliseDateOfBirth(raw, { dayFirst: true, today });
const usDate = (raw: string) => normaliseDateOfBirth(raw, { dayFirst: false, today });

describe('normaliseDateOfBirth', () => {
  it.each([
    ['20010403', '20010403'],
    ['200104031230', '20010403'],
    ['2001-04-03', '20010403'],
    ['2001/4/3', '20010403'],
    ['03/04/2001', '20010403'],
    ['3/4/2001', '20010403'],
    ['03-04-2001', '20010403'],
    ['03.04.2001', '20010403'],
    ['200104', '200104'],
    ['2001-04', '200104'],
    ['4/2001', '200104'],
    ['2001', '2001'],
    ['2001-04-03T00:00:00Z', '20010403'],
    ['2001-04-03 00:00:00.000', '20010403'],
    ['03/04/2001 12:30', '20010403'],
    ['3-Apr-2001', '20010403'],
    ['03 april 2001', '20010403'],
    ['3 Sept 2001', '20010903'],
    ['29/02/2000', '20000229'],
  ])('reads %j day-first as %s', (raw, value) => {
    expect(ukDate(raw)).toEqual({ kind: 'value', value });
  });

  it('reads slash dates month-first when dayFirst is false', () => {
    expect(usDate('04/03/2001')).toEqual({ kind: 'value', value: '20010403' });
    expect(usDate('2001-04-03')).toEqual({ kind: 'value', value: '20010403' });
  });

  it('says a date with a month over 12 may be in the other order, naming the setting', () => {
    expect(ukDate('04/23/2001')).toMatchObject({ kind: 'problem', reason: 'date_of_birth_invalid', detail: expect.stringContaining('dayFirst') });
    expect(usDate('23/04/2001')).toMatchObject({ kind: 'problem', reason: 'date_of_birth_invalid', detail: expect.stringContaining('dayFirst') });
  });

  it('reads an Excel serial day number and flags it', () => {
    expect(ukDate('36984')).toEqual({ kind: 'value', value: '20010403', flag: 'date_of_birth_excel_serial' });
    expect(ukDate('36984.5')).toEqual({ kind: 'value', value: '20010403', flag: 'date_of_birth_excel_serial' });
  });

  it('reports an Excel serial beyond today as out of range', () => {
    expect(ukDate('45839')).toMatchObject({ kind: 'problem', reason: 'date_of_birth_excel_serial_out_of_range' });
    expect(ukDate('45838')).toEqual({ kind: 'value', value: '20250630', flag: 'date_of_birth_excel_serial' });
  });

  it.each(['03/04/01', '3-Apr-01'])('reports the two-digit year in %j as ambiguous', (raw) => {
    expect(ukDate(raw)).toMatchObject({ kind: 'problem', reason: 'date_of_birth_ambiguous' });
  });

  it.each(['31/02/2001', '29/02/2001', '20011301', '00/01/2001', '2001-00'])('reports %j as not a real date', (raw) => {
    expect(ukDate(raw)).toMatchObject({ kind: 'problem', reason: 'date_of_birth_invalid' });
  });

  it('treats dates after today as in the future, at the precision given', () => {
    expect(ukDate('01/07/2025')).toMatchObject({ kind: 'problem', reason: 'date_of_birth_in_future' });
    expect(ukDate('202507')).toMatchObject({ kind: 'problem', reason: 'date_of_birth_in_future' });
    expect(ukDate('2026')).toMatchObject({ kind: 'problem', reason: 'date_of_birth_in_future' });
    expect(ukDate('30/06/2025')).toEqual({ kind: 'value', value: '20250630' });
    expect(ukDate('202506')).toEqual({ kind: 'value', value: '202506' });
  });

  it.each(['1753-01-01', '01/01/1800'])('reports the database placeholder %j as implausible', (raw) => {
    expect(ukDate(raw)).toMatchObject({ kind: 'problem', reason: 'date_of_birth_implausible' });
  });

  it.each(['03042001', 'yesterday', '2001-04-03-05', '3 Foo 2001', '123'])('reports %j as an unreadable format', (raw) => {
    expect(ukDate(raw)).toMatchObject({ kind: 'problem', reason: 'date_of_birth_format' });
  });

  it.each(['', '  ', 'NULL'])('treats %j as no date', (raw) => {
    expect(ukDate(raw)).toEqual({ kind: 'empty' });
  });
});
