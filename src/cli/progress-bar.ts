import type { Writable } from 'node:stream';
import type { BatchProgress } from '../pipeline/progress.js';

/**
 * Renders batch progress on a terminal (one line redrawn) or, when the output is a file or a pipe,
 * as a plain line every few seconds so logs of unattended runs stay readable.
 */
export function startProgressDisplay(progress: BatchProgress, out: Writable & { isTTY?: boolean }, intervalMs?: number): () => void {
  const tty = Boolean(out.isTTY);
  const every = intervalMs ?? (tty ? 200 : 5000);
  const shown = new Set<string>();
  const render = () => {
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
    const line = `${bar} ${progress.done}/${total ?? '?'} rows (${pct}%) ${progress.rate().toFixed(1)} rows/s` +
      `${eta === undefined ? '' : ` ETA ${formatDuration(eta)}`}${counts ? ` | ${counts}` : ''}`;
    // A notice (why the batch waits) is long: its own line above the bar, each one once, however
    // often it comes and goes.
    if (progress.notice && !shown.has(progress.notice)) {
      shown.add(progress.notice);
      out.write(`${tty ? '\r\x1b[2K' : ''}${progress.notice}\n`);
    }
    out.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const timer = setInterval(render, every);
  timer.unref();
  return () => {
    clearInterval(timer);
    render();
    if (tty) out.write('\n');
  };
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
