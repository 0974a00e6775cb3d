import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressLine, startProgressDisplay } from '../../src/cli/progress-bar.js';
import { BatchProgress } from '../../src/pipeline/progress.js';

/** A stream that records what is written, and says it is a terminal or not. */
function screen(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return Object.assign(stream, { isTTY, text: () => text });
}

function progressOf(total: number, done: number): BatchProgress {
  let clock = 0;
  const progress = new BatchProgress(() => clock);
  progress.total = total;
  for (let i = 0; i < done; i++) progress.record({ status: i % 2 ? 'matched' : 'verified' });
  clock = 10_000;
  return progress;
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('the progress display', () => {
  it('on a terminal, redraws one line in place with a carriage return and ends it with a newline', () => {
    const out = screen(true);
    const progress = progressOf(200, 50);
    const stop = startProgressDisplay(progress, out);
    vi.advanceTimersByTime(1_000);
    for (let i = 0; i < 150; i++) progress.record({ status: 'verified' });
    stop();
    const text = out.text();
    expect(text.split('\r\x1b[2K').length - 1).toBeGreaterThanOrEqual(5);
    expect(text.match(/\n/g)).toHaveLength(1);
    expect(text.endsWith('200/200 rows (100%) 20.0 rows/s ETA 0s | verified 175, matched 25\n')).toBe(true);
  });

  it('elsewhere (a file, a pipe), writes plain lines every few seconds and at the end, never a carriage return', () => {
    const out = screen(false);
    const progress = progressOf(200, 50);
    const stop = startProgressDisplay(progress, out);
    vi.advanceTimersByTime(5_000);
    for (let i = 0; i < 50; i++) progress.record({ status: 'verified' });
    vi.advanceTimersByTime(5_000);
    // Nothing moved in these 5 s: no line repeats the last one.
    vi.advanceTimersByTime(5_000);
    for (let i = 0; i < 100; i++) progress.record({ status: 'verified' });
    stop();
    const lines = out.text().split('\n').filter(Boolean);
    expect(out.text()).not.toContain('\r');
    expect(out.text()).not.toContain('\x1b');
    expect(lines.map((l) => /(\d+)\/200 rows/.exec(l)![1])).toEqual(['50', '100', '200']);
  });

  it('says why a batch waits on its own line, once', () => {
    const out = screen(false);
    const progress = progressOf(200, 0);
    progress.notice = 'WAITING: it is for another provider';
    const stop = startProgressDisplay(progress, out);
    vi.advanceTimersByTime(20_000);
    stop();
    expect(out.text().match(/WAITING/g)).toHaveLength(1);
  });

  it('reads rows, pace, time left and counts by status', () => {
    expect(progressLine(progressOf(200, 100))).toBe('[############............] 100/200 rows (50%) 10.0 rows/s ETA 10s | verified 50, matched 50');
  });
});
