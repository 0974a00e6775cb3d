import { describe, expect, it } from 'vitest';
import { normaliseSex } from '../../../../src/csv/input/normalise/sex.js';

describe('normaliseSex', () => {
  it.each([
    ['0', '0'], ['1', '1'], ['2', '2'], ['9', '9'],
    ['M', '1'], ['f', '2'], ['U', '0'],
    ['Male', '1'], ['FEMALE', '2'], ['unknown', '0'], ['Not Known', '0'], ['not_specified', '9'], [' 2 ', '2'],
  ])('maps %j to the Data Dictionary code %s', (raw, code) => {
    expect(normaliseSex(raw)).toEqual({ kind: 'value', value: code });
  });

  it.each(['X', 'Z', '3', '4', 'other', 'mail'])('does not translate %j (gender identity codes are another vocabulary)', (raw) => {
    expect(normaliseSex(raw)).toMatchObject({ kind: 'problem', reason: 'sex_unrecognised' });
  });

  it('treats a blank cell as no sex', () => {
    expect(normaliseSex('  ')).toEqual({ kind: 'empty' });
  });
});
