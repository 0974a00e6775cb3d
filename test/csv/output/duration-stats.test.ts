import { describe, expect, it } from 'vitest';
import { DurationStats } from '../../../src/csv/output/duration-stats.js';

describe('DurationStats', () => {
  it('reports nothing before anything is recorded', () => {
    const stats = new DurationStats();
    expect([stats.count, stats.mean(), stats.percentile(95), stats.max()]).toEqual([0, null, null, null]);
  });

  it('gives the nearest-rank 95th percentile, mean and maximum in whole milliseconds', () => {
    const stats = new DurationStats();
    for (let ms = 1; ms <= 100; ms++) stats.add(ms);
    expect(stats.count).toBe(100);
    expect(stats.mean()).toBe(50.5);
    expect(stats.percentile(95)).toBe(95);
    expect(stats.percentile(100)).toBe(100);
    expect(stats.max()).toBe(100);
  });

  it('reports durations beyond the histogram as the longest seen', () => {
    const stats = new DurationStats();
    for (let i = 0; i < 10; i++) stats.add(90_000 + i);
    stats.add(5);
    expect(stats.percentile(95)).toBe(90_009);
    expect(stats.percentile(5)).toBe(5);
    expect(stats.max()).toBe(90_009);
  });
});
