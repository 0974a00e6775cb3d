import { constants, type Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { watchFolderPaths, type WatchFolderPaths } from '../intake/watch/folder-layout.js';
import { loadWatchFolderSettings, WatchFolderSettingsError } from '../intake/watch/folder-settings.js';
import { fail, pass, skip, warn, worstOf, type CheckOutcome, type DoctorCheck } from './check.js';

/**
 * Each watched folder of PDS_TRACE_WATCH_FOLDERS: there, writable, open to nobody else (its files
 * are patient data), with valid options, and with inbox/, done/, failed/ and the output folder on
 * the same filesystem as processing/: a watcher claims and files away by renaming, and a rename
 * cannot cross filesystems (a share mounted at inbox/ alone breaks every claim).
 */

function mode(info: Stats): string {
  return (info.mode & 0o777).toString(8);
}

async function statOf(dir: string): Promise<Stats | NodeJS.ErrnoException> {
  return stat(dir).catch((err: unknown) => err as NodeJS.ErrnoException);
}

async function checkFolder(paths: WatchFolderPaths): Promise<CheckOutcome> {
  const root = await statOf(paths.root);
  if (root instanceof Error) {
    return root.code === 'ENOENT'
      ? fail(`${paths.root} does not exist`, 'Create it (mkdir -m 700), mount the share it should be, or correct PDS_TRACE_WATCH_FOLDERS.')
      : fail(`${paths.root} cannot be read (${root.code})`, 'Give the user that runs pds-trace access to it.');
  }
  let outDir = paths.outbox;
  try {
    outDir = (await loadWatchFolderSettings(paths)).options.outDir;
  } catch (err) {
    if (err instanceof WatchFolderSettingsError) return fail(err.message, `Correct ${paths.settings}: the watcher refuses to start with it as it is.`);
    throw err;
  }
  const findings: CheckOutcome[] = [];
  const dirs = [paths.root, paths.inbox, paths.processing, paths.done, paths.failed, outDir];
  const infos = new Map<string, Stats>();
  const missing: string[] = [];
  for (const dir of dirs) {
    const info = await statOf(dir);
    if (info instanceof Error) {
      if (info.code === 'ENOENT') missing.push(path.relative(paths.root, dir) || dir);
      else findings.push(fail(`${dir} cannot be read (${info.code})`, 'Give the user that runs pds-trace access to it.'));
      continue;
    }
    infos.set(dir, info);
    // Dropped files and results are patient data: nobody but the service's own user may list them.
    if ((info.mode & 0o077) !== 0) findings.push(fail(`${dir} is open to other users (mode ${mode(info)})`, `Run: chmod 700 ${dir}`));
  }
  for (const dir of [paths.inbox, paths.processing]) {
    if (!infos.has(dir)) continue;
    await access(dir, constants.W_OK).catch((err: NodeJS.ErrnoException) => findings.push(fail(`${dir} is not writable (${err.code})`, `Make it writable by the user that runs pds-trace (chown that user ${dir}).`)));
  }
  const processing = infos.get(paths.processing);
  if (processing) {
    const elsewhere = [...infos].filter(([dir, info]) => dir !== paths.root && info.dev !== processing.dev).map(([dir]) => dir);
    if (elsewhere.length > 0) {
      findings.push(
        fail(
          `${elsewhere.join(', ')} on another filesystem than ${paths.processing}: files cannot be moved there by renaming`,
          'Keep the whole watched folder (and its output folder) on one filesystem: mount the share at the watched folder, not at inbox/.',
        ),
      );
    }
  }
  if (missing.length > 0) findings.push(warn(`${paths.root}: no ${missing.join(', ')} yet`, 'The watcher creates them owner-only when it starts.'));
  if (findings.length === 0) findings.push(pass(`${paths.root} writable, owner-only, one filesystem`));
  return worstOf(findings);
}

export const watchFoldersCheck: DoctorCheck = {
  name: 'watch-folders',
  title: 'Watched folders',
  async run({ config }) {
    const folders = config!.watchFolders;
    if (folders.length === 0) return skip('no PDS_TRACE_WATCH_FOLDERS: no watched folders to check');
    return worstOf(await Promise.all(folders.map((folder) => checkFolder(watchFolderPaths(folder)))));
  },
};
