import { describe, expect, it } from 'vitest';
import { normalisePostcode } from '../../../../src/csv/input/normalise/postcode.js';

describe('normalisePostcode', () => {
  it.each([
    ['ls11aa', 'LS1 1AA'],
    ['LS1 1AA', 'LS1 1AA'],
    ['  sw1a   2aa ', 'SW1A 2AA'],
    ['M11AE', 'M1 1AE'],
    ['YO11GA', 'YO1 1GA'],
    ['EC1A1BB', 'EC1A 1BB'],
    ['W1A 0AX', 'W1A 0AX'],
    ['gir0aa', 'GIR 0AA'],
    ['ZZ99 3VZ', 'ZZ99 3VZ'],
  ])('normalises %j to %s', (raw, value) => {
    expect(normalisePostcode(raw)).toEqual({ kind: 'value', value });
  });

  it('keeps a search wildcard, upper-cased', () => {
    expect(normalisePostcode('ls1*')).toEqual({ kind: 'value', value: 'LS1*' });
  });

  it.each(['NFA', 'LS1', '12345', 'L*', 'LS1 1A'])('reports %j as postcode_format', (raw) => {
    expect(normalisePostcode(raw)).toMatchObject({ kind: 'problem', reason: 'postcode_format' });
  });
});
