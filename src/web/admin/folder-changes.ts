import path from 'node:path';
import type { Principal } from '../../auth/authorise.js';
import { watchFolderPaths } from '../../intake/watch/folder-layout.js';
import { checkWatchFolderSettings, saveWatchFolderSettings, WatchFolderSettingsError } from '../../intake/watch/folder-settings.js';
import { auditAs } from '../access-hook.js';
import type { WebContext } from '../server.js';

/**
 * Changing watched folders' `pds-trace.json` from the web service (the API and the Folders page
 * alike): only folders this deployment watches (PDS_TRACE_WATCH_FOLDERS), never a path a request
 * names; every folder's settings checked by the watcher's own check before any is written; each
 * write audited as `config_changed`, naming the folder.
 */

export interface FolderChange {
  path: string;
  settings: unknown;
}

export interface FolderProblems {
  path: string;
  problems: string[];
}

export type FolderChangeResult = { kind: 'changed'; folders: FolderChange[] } | { kind: 'unknown_folder' } | { kind: 'invalid'; folders: FolderProblems[] };

/** The configured folder a request names, or undefined: an exact absolute path, nothing else. */
export function configuredFolder(ctx: WebContext, given: unknown): string | undefined {
  if (typeof given !== 'string' || !path.isAbsolute(given)) return undefined;
  const resolved = path.resolve(given);
  return ctx.config.watchFolders.find((folder) => folder === resolved);
}

export async function changeFolders(ctx: WebContext, principal: Principal, route: string, changes: readonly FolderChange[]): Promise<FolderChangeResult> {
  const folders: FolderChange[] = [];
  for (const change of changes) {
    const folder = configuredFolder(ctx, change.path);
    if (!folder) {
      // As the access hook records a refusal; the path asked for is not recorded (it could be anything).
      await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'access_denied', outcome: 'refused', detail: `web=${route} folder not watched by this deployment` }]));
      return { kind: 'unknown_folder' };
    }
    folders.push({ path: folder, settings: change.settings });
  }
  const invalid: FolderProblems[] = [];
  for (const f of folders) {
    await checkWatchFolderSettings(watchFolderPaths(f.path), f.settings).catch((err: unknown) => {
      if (!(err instanceof WatchFolderSettingsError)) throw err;
      invalid.push({ path: f.path, problems: err.problems });
    });
  }
  if (invalid.length > 0) {
    await ctx.audit.append(auditAs(ctx, principal, invalid.map((f) => ({ kind: 'config_changed' as const, outcome: 'refused', detail: `folder=${f.path} problems=${f.problems.length}` }))));
    return { kind: 'invalid', folders: invalid };
  }
  for (const f of folders) {
    await saveWatchFolderSettings(watchFolderPaths(f.path), f.settings);
    await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'config_changed', outcome: 'folder_settings_changed', detail: `folder=${f.path}` }]));
  }
  return { kind: 'changed', folders };
}
