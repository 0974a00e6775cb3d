import { describe, expect, it } from 'vitest';
import { normaliseName } from '../../../../src/csv/input/normalise/name.js';

describe('normaliseName', () => {
  it.each([
    ['  SMITH  ', 'SMITH'],
    ['Van  der\tBerg', 'Van der Berg'],
    ['de\u00a0la Cruz', 'de la Cruz'],
    ['Line\r\nBreak', 'Line Break'],
  ])('trims %j and collapses inner whitespace to %j', (raw, value) => {
    expect(normaliseName(raw)).toEqual({ kind: 'value', value });
  });

  it.each(["O'Reilly", 'Jones-Smith', 'Kociński', 'mcdonald', 'NULL'])('leaves %j exactly as written', (raw) => {
    expect(normaliseName(raw)).toEqual({ kind: 'value', value: raw });
  });

  it('reports control characters', () => {
    expect(normaliseName('SMI\u0007TH')).toMatchObject({ kind: 'problem', reason: 'invalid_characters' });
  });

  it('treats whitespace as no name', () => {
    expect(normaliseName(' \t ')).toEqual({ kind: 'empty' });
  });
});
