import type { Writable } from 'node:stream';
import type { BatchProgress } from '../pipeline/progress.js';

/** How often the line is redrawn on a terminal, and how often a plain line is written elsewhere. */
const TERMINAL_REDRAW_MS = 200;
const PLAIN_LINE_MS = 5_000;
/** Carriage return and erase-line: redraws the line in place, which only a terminal understands. */
const REDRAW = '\r\x1b[2K';

/**
 * Renders batch progress on a terminal (one line redrawn in place) or, when the output is a file or
 * a pipe, as a plain line every few seconds and at the end, so logs of unattended runs hold
 * readable lines instead of hundreds of carriage returns. `out.isTTY` decides.
 */
export function startProgressDisplay(progress: BatchProgress, out: Writable & { isTTY?: boolean }, intervalMs?: number): () => void {
  const tty = Boolean(out.isTTY);
  const shown = new Set<string>();
  let last: string | undefined;
  const render = (final: boolean) => {
    // A notice (why the batch waits) is long: its own line above the bar, each one once, however
    // often it comes and goes.
    if (progress.notice && !shown.has(progress.notice)) {
      shown.add(progress.notice);
      out.write(`${tty ? REDRAW : ''}${progress.notice}\n`);
    }
    const line = progressLine(progress);
    if (tty) {
      out.write(`${REDRAW}${line}`);
    } else if (line !== last || final) {
      // Unchanged since the last line: nothing new to say to a log file.
      out.write(`${line}\n`);
    }
    last = line;
  };
  const timer = setInterval(() => render(false), intervalMs ?? (tty ? TERMINAL_REDRAW_MS : PLAIN_LINE_MS));
  timer.unref();
  return () => {
    clearInterval(timer);
    render(true);
    if (tty) out.write('\n');
  };
}

/** `[#####...] 120/200 rows (60%) 20.0 rows/s ETA 4s | verified 80, matched 40`. */
export function progressLine(progress: BatchProgress): string {
  const total = progress.total;
  const pct = total ? Math.floor((progress.done / total) * 100) : 0;
  const width = 24;
  const filled = total ? Math.round((progress.done / total) * width) : 0;
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const eta = progress.etaSeconds();
  const counts = Object.entries(progress.byStatus)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  return (
    `${bar} ${progress.done}/${total ?? '?'} rows (${pct}%) ${progress.rate().toFixed(1)} rows/s` +
    `${eta === undefined ? '' : ` ETA ${formatDuration(eta)}`}${counts ? ` | ${counts}` : ''}`
  );
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
