import { describe, expect, it } from 'vitest';
import { detectDialect } from '../../../src/csv/input/dialect.js';

const delimiterOf = (text: string) => detectDialect(text, true).delimiter;
const recordsEndWith = (text: string, complete = true) => detectDialect(text, complete).recordDelimiters;

describe('detectDialect: cell delimiter', () => {
  it('finds commas, semicolons and tabs', () => {
    expect(delimiterOf('a,b,c\n1,2,3\n')).toBe(',');
    expect(delimiterOf('a;b;c\r\n1;2;3\r\n')).toBe(';');
    expect(delimiterOf('a\tb\tc\n1\t2\t3\n')).toBe('\t');
  });

  it('prefers semicolons that split every line over commas inside some cells', () => {
    expect(delimiterOf('NHS;Address;DOB\n1;1, High St;2\n2;Flat 3;4\n')).toBe(';');
  });

  it('ignores delimiters inside quoted cells, even across lines', () => {
    expect(delimiterOf('a;b\n"x,y,z\n1,2,3";q\n"4,5";6\n')).toBe(';');
  });

  it('does not let a quote inside an unquoted cell hide the delimiters after it', () => {
    expect(delimiterOf('name;dob\nO"Brien;2001\nSmith;2002\n')).toBe(';');
  });

  it('reads a MESH file, whose control line is narrower than its rows, as comma-separated', () => {
    expect(delimiterOf('MPTREQ_20250630120000,SPINE_PDS_MESH_V1,20250630120000,1\nA,1,X,Y,,1,2001,LS1 1AA,,,,,,,,,\n')).toBe(',');
  });

  it('falls back to a comma for a one-column file', () => {
    expect(delimiterOf('NHS\n9990000018\n')).toBe(',');
    expect(delimiterOf('')).toBe(',');
  });
});

describe('detectDialect: record delimiter', () => {
  it('takes the first line break outside quotes', () => {
    expect(recordsEndWith('a,b\r\n1,2\r\n')).toEqual(['\r\n']);
    expect(recordsEndWith('a,b\n1,2\n')).toEqual(['\n']);
    expect(recordsEndWith('a,b\r1,2\r')).toEqual(['\r']);
    expect(recordsEndWith('a,b\n"1\r\n",2\n')).toEqual(['\n']);
  });

  it('leaves a different line break inside an unquoted cell to the cell', () => {
    expect(recordsEndWith('a,b,c\r\n,\n,x\r\n1,2,3\r\n')).toEqual(['\r\n']);
    expect(recordsEndWith('a,b\n1,x\ry\n')).toEqual(['\n']);
  });

  it('ends records at every kind of line break when mixed endings all give full-width records', () => {
    expect(recordsEndWith('a,b\r\n1,2\n3,4\r5,6\r\n')).toEqual(['\r\n', '\n', '\r']);
  });

  it('keeps LF or CR records when CRLF also appears, since a CR or LF in a cell next to the delimiter looks the same', () => {
    expect(recordsEndWith('a,b\n1,2\r\n3,4\n')).toEqual(['\n']);
    expect(recordsEndWith('a,b\r1,2\r\n3,4\r')).toEqual(['\r']);
  });

  it('ignores a last record cut short by the end of an incomplete sample', () => {
    expect(recordsEndWith('a,b\r\n1,2\n3', false)).toEqual(['\r\n', '\n', '\r']);
    expect(recordsEndWith('a,b\r\n1,2\n3', true)).toEqual(['\r\n']);
  });
});
