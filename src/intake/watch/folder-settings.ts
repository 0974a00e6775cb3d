import { access, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../csv/output/atomic-file.js';
import { describeIssues, TRACE_OPTION_FIELDS, traceOptionsFrom } from '../trace-option-fields.js';
import type { TraceOptions } from '../submit.js';
import type { WatchFolderPaths } from './folder-layout.js';

/**
 * A watched folder's options, from the optional `<folder>/pds-trace.json`: checked when the
 * watcher starts (a mistake stops it with the file and the key named, before any file is claimed),
 * again each time it claims a file (so a changed file applies to the next file), and before the web
 * service writes it (`PUT /api/folders`): one schema, one check, everywhere.
 *
 * ```json
 * { "for": "dr.jones", "format": "mesh", "mapping": "mapping.json", "minimal": false,
 *   "fallbacks": ["search_without_postcode"], "output": "/srv/results", "bom": true }
 * ```
 */
export const FOLDER_SETTINGS = z
  .object({
    /** The person the folder's files are traced for: recorded in the audit trail with each batch. */
    for: z.string().trim().min(1).max(100).optional(),
    /** Where outputs go instead of `outbox/`, relative to the folder. */
    output: z.string().min(1).optional(),
    ...TRACE_OPTION_FIELDS,
  })
  .strict();

/** `pds-trace.json` as a person writes it (defaults left out). */
export type WatchFolderSettingsFile = z.input<typeof FOLDER_SETTINGS>;

export interface WatchFolderSettings {
  onBehalfOf?: string;
  options: TraceOptions;
}

/** `pds-trace.json` is not valid: names the file and each bad key. */
export class WatchFolderSettingsError extends Error {
  override readonly name = 'WatchFolderSettingsError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
  }
}

/** The settings `raw` (the file's JSON) stands for, or WatchFolderSettingsError naming each problem. */
export async function checkWatchFolderSettings(paths: WatchFolderPaths, raw: unknown): Promise<WatchFolderSettings> {
  const file = paths.settings;
  const parsed = FOLDER_SETTINGS.safeParse(raw);
  if (!parsed.success) {
    throw new WatchFolderSettingsError(file, describeIssues(parsed.error.issues));
  }
  const s = parsed.data;
  const options = traceOptionsFrom(s, paths.root, s.output ? path.resolve(paths.root, s.output) : paths.outbox);
  if (options.mappingFile) {
    await access(options.mappingFile).catch(() => {
      throw new WatchFolderSettingsError(file, [`mapping: ${options.mappingFile} cannot be read`]);
    });
  }
  return { onBehalfOf: s.for, options };
}

/** The file's JSON as written (`{}` when there is none), unchecked: what an administrator edits. */
export async function readWatchFolderSettingsFile(paths: WatchFolderPaths): Promise<unknown> {
  try {
    return JSON.parse(await readFile(paths.settings, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new WatchFolderSettingsError(paths.settings, [`not readable as JSON (${(err as Error).message})`]);
  }
}

export async function loadWatchFolderSettings(paths: WatchFolderPaths): Promise<WatchFolderSettings> {
  return checkWatchFolderSettings(paths, await readWatchFolderSettingsFile(paths));
}

/**
 * Checks `raw` as the watcher will, then replaces `pds-trace.json` whole (a watcher claiming a file
 * meanwhile reads the old file or the new, never half of one), owner-only like the folder.
 */
export async function saveWatchFolderSettings(paths: WatchFolderPaths, raw: unknown): Promise<WatchFolderSettings> {
  const settings = await checkWatchFolderSettings(paths, raw);
  // A configured folder no watcher has started on yet: made as the watcher makes it.
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  await writeFileAtomic(paths.settings, `${JSON.stringify(raw, null, 2)}\n`);
  return settings;
}
