import { readdir } from 'node:fs/promises';
import { Gauge } from 'prom-client';
import { isIgnoredName } from '../intake/partial-files.js';
import type { WatchedFileFailure } from '../intake/watch/folder-watcher.js';
import type { WatchFolderPaths } from '../intake/watch/folder-layout.js';
import type { PdsTraceMetrics } from './registry.js';

/**
 * The watched folders of a `watch` process: how many files wait (`inbox/`) or are being traced
 * (`processing/`), counted from the folders at each scrape so that the figure is right after a
 * restart, and the files not traced, counted as the watcher reports them. Summed over the
 * process's folders: a folder's path is no label (it may say whose files they are), and
 * `pds-trace status` names the folder when an alert fires.
 */

const BACKLOG_STATES = ['inbox', 'processing'] as const;

async function filesIn(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  // Markers, partial copies and lock files are not work waiting.
  return entries.filter((e) => e.isFile() && !isIgnoredName(e.name)).length;
}

export function addWatchBacklog(metrics: PdsTraceMetrics, folders: readonly WatchFolderPaths[]): void {
  new Gauge({
    name: 'pdstrace_watch_files',
    help: 'Files in the watched folders of this process: waiting in inbox/ or being traced in processing/',
    labelNames: ['state'],
    registers: [metrics.registry],
    async collect() {
      for (const state of BACKLOG_STATES) {
        const counts = await Promise.all(folders.map((f) => filesIn(f[state])));
        this.set({ state }, counts.reduce((a, b) => a + b, 0));
      }
    },
  });
  // Present from the start, so a rate over it is defined before the first failure.
  for (const reason of ['rejected', 'duplicate', 'error'] satisfies WatchedFileFailure[]) metrics.watchFailures.inc({ reason }, 0);
}

/** The watcher's `onFileFailed`, counting into `pdstrace_watch_failures_total`. */
export function countWatchFailures(metrics: PdsTraceMetrics): (reason: WatchedFileFailure) => void {
  return (reason) => metrics.watchFailures.inc({ reason });
}
