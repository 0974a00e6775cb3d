import { describe, expect, it } from 'vitest';
import { LocalIdSet } from '../../../src/csv/input/local-id-set.js';

describe('LocalIdSet', () => {
  it('reports an id as seen only from its second time', () => {
    const set = new LocalIdSet();
    expect(set.addAndCheck('A1')).toBe(false);
    expect(set.addAndCheck('A2')).toBe(false);
    expect(set.addAndCheck('A1')).toBe(true);
    expect(set.addAndCheck('a1')).toBe(false);
    expect(set.size).toBe(3);
  });

  it('keeps every id through growth, with no false duplicates among 200,000 distinct ids', () => {
    const set = new LocalIdSet();
    let duplicates = 0;
    for (let i = 0; i < 200_000; i++) if (set.addAndCheck(`ID${i}`)) duplicates++;
    expect(duplicates).toBe(0);
    expect(set.size).toBe(200_000);
    expect(set.addAndCheck('ID0')).toBe(true);
    expect(set.addAndCheck('ID199999')).toBe(true);
  });

  it('answers alike whether told how many ids to expect, too few, or none', () => {
    const ids = Array.from({ length: 30_000 }, (_, i) => `L${i % 20_000}`);
    const answers = (set: LocalIdSet) => ids.map((id) => set.addAndCheck(id));
    const expected = ids.map((_, i) => i >= 20_000);
    expect(answers(new LocalIdSet())).toEqual(expected);
    expect(answers(new LocalIdSet(ids.length))).toEqual(expected);
    expect(answers(new LocalIdSet(3_000))).toEqual(expected);
  });
});
