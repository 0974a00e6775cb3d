import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isIgnoredName } from '../partial-files.js';
import { failureNoteCodes, NOTE_SUFFIX } from './failure-note.js';
import type { WatchFolderPaths } from './folder-layout.js';

/**
 * How a watched folder stands, as counts read from its sub-folders: what waits, what is being
 * traced, what was set aside and why (by reason code), what finished today. Counts only: file
 * names and the notes' words are never part of it (a name may say whose file it is).
 */
export interface WatchFolderState {
  inbox: number;
  processing: number;
  failed: number;
  /** Set-aside files by the reason code of their note (`unknown`: a note written without one). */
  failedByReason: Record<string, number>;
  /** Inputs moved into done/ since local midnight. */
  doneToday: number;
}

async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  // Markers, partial copies and lock files are not work.
  return entries.filter((e) => e.isFile() && !isIgnoredName(e.name)).map((e) => e.name);
}

function startOfLocalDay(now: Date): number {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

export async function watchFolderState(paths: WatchFolderPaths, now = new Date()): Promise<WatchFolderState> {
  const [inbox, processing, failed, done, codes] = await Promise.all([filesIn(paths.inbox), filesIn(paths.processing), filesIn(paths.failed), filesIn(paths.done), failureNoteCodes(paths.failed)]);
  const since = startOfLocalDay(now);
  // Moving a file into done/ changes its ctime, not its mtime (the export's own time).
  const doneTimes = await Promise.all(done.map((n) => stat(path.join(paths.done, n)).then((s) => s.ctimeMs).catch(() => 0)));
  const failedByReason: Record<string, number> = {};
  for (const code of codes) failedByReason[code] = (failedByReason[code] ?? 0) + 1;
  return {
    inbox: inbox.length,
    processing: processing.length,
    failed: failed.filter((n) => !n.endsWith(NOTE_SUFFIX)).length,
    failedByReason,
    doneToday: doneTimes.filter((t) => t >= since).length,
  };
}
