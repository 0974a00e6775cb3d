import { describe, expect, it } from 'vitest';
import { earlyLowMatch } from '../../src/pipeline/low-match.js';

describe('the early low-match warning', () => {
  const settings = { minRows: 50, percent: 50 };

  it('waits for the minimum sample of rows PDS answered about', () => {
    expect(earlyLowMatch({ no_match: 49 }, settings)).toBeUndefined();
    expect(earlyLowMatch({ no_match: 50 }, settings)).toEqual({ rows: 50, found: 0, percent: 0, threshold: 50 });
  });

  it('counts verified, matched and superseded as found, and warns only below the threshold', () => {
    expect(earlyLowMatch({ verified: 20, matched: 4, superseded: 1, no_match: 25 }, settings)).toBeUndefined();
    expect(earlyLowMatch({ verified: 20, matched: 4, no_match: 26 }, settings)).toMatchObject({ rows: 50, found: 24, percent: 48 });
  });

  it('leaves out errors and the rows rejected when the file was read, which come all at once', () => {
    expect(earlyLowMatch({ invalid_input: 500, error: 100, verified: 10 }, settings)).toBeUndefined();
    expect(earlyLowMatch({ invalid_input: 500, verified: 40, not_verified: 10 }, settings)).toBeUndefined();
  });

  it('never warns with a threshold of 0', () => {
    expect(earlyLowMatch({ no_match: 1000 }, { minRows: 50, percent: 0 })).toBeUndefined();
  });
});
