import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * The sub-folders of a watched folder. Files are dropped into `inbox/`; a watcher claims one by
 * renaming it into `processing/` (only one rename of a name can succeed, so of several watchers
 * exactly one claims it); when its batch is done the input goes to `done/` and the outputs into
 * `outbox/` (or the folder's configured output), or, when the file was refused, the input goes to
 * `failed/` beside `<name>.error.txt`. Nothing is ever deleted.
 */
export interface WatchFolderPaths {
  root: string;
  inbox: string;
  processing: string;
  done: string;
  failed: string;
  outbox: string;
  /** `<folder>/pds-trace.json`, the folder's options. */
  settings: string;
}

export function watchFolderPaths(folder: string): WatchFolderPaths {
  const root = path.resolve(folder);
  return {
    root,
    inbox: path.join(root, 'inbox'),
    processing: path.join(root, 'processing'),
    done: path.join(root, 'done'),
    failed: path.join(root, 'failed'),
    outbox: path.join(root, 'outbox'),
    settings: path.join(root, 'pds-trace.json'),
  };
}

/** Creates the sub-folders that are missing, owner-only (inputs and outputs hold patient data). */
export async function ensureWatchFolders(paths: WatchFolderPaths, outDir: string): Promise<void> {
  for (const dir of [paths.inbox, paths.processing, paths.done, paths.failed, outDir]) await mkdir(dir, { recursive: true, mode: 0o700 });
}
