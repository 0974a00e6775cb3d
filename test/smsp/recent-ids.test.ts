import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../src/smsp/recent-ids.js';

describe('RecentIds', () => {
  it('says whether an id was seen before', () => {
    const ids = new RecentIds(3);
    expect(ids.remember('A')).toBe(false);
    expect(ids.remember('B')).toBe(false);
    expect(ids.remember('A')).toBe(true);
  });

  it('forgets the oldest id once full, so memory stays bounded', () => {
    const ids = new RecentIds(2);
    ids.remember('A');
    ids.remember('B');
    ids.remember('C');
    expect(ids.size).toBe(2);
    expect(ids.remember('B')).toBe(true);
    expect(ids.remember('A')).toBe(false);
  });

  it('holds its capacity and no more over many ids', () => {
    const ids = new RecentIds(1000);
    for (let i = 0; i < 10_000; i++) ids.remember(`ID-${i}`);
    expect(ids.size).toBe(1000);
    expect(ids.remember('ID-9999')).toBe(true);
    expect(ids.remember('ID-8999')).toBe(false);
  });

  it('refuses a capacity below one', () => {
    expect(() => new RecentIds(0)).toThrow(RangeError);
  });
});
