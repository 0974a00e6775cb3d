import { describe, expect, it } from 'vitest';
import { BatchProgress } from '../../src/pipeline/progress.js';

describe('BatchProgress', () => {
  it('adds the rows reported live to the settled ones, each report replacing the last', () => {
    const progress = new BatchProgress(() => 0);
    progress.record({ status: 'verified' });
    progress.setLive({ matched: 3, no_match: 1 });
    expect(progress.done).toBe(5);
    expect(progress.byStatus).toMatchObject({ verified: 1, matched: 3, no_match: 1 });
    progress.setLive({ matched: 1 });
    expect(progress.done).toBe(2);
    expect(progress.byStatus).toMatchObject({ verified: 1, matched: 1, no_match: 0 });
  });

  it('measures the pace of a follower from when it started following, not from the rows done before', () => {
    let now = 0;
    const progress = new BatchProgress(() => now);
    progress.total = 1000;
    for (let i = 0; i < 500; i++) progress.record({ status: 'verified' });
    progress.startClock();
    now = 10_000;
    progress.setLive({ matched: 100 });
    expect(progress.rate()).toBe(10);
    expect(progress.etaSeconds()).toBe(40);
  });
});
