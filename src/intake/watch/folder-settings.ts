import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { describeIssues, TRACE_OPTION_FIELDS, traceOptionsFrom } from '../trace-option-fields.js';
import type { TraceOptions } from '../submit.js';
import type { WatchFolderPaths } from './folder-layout.js';

/**
 * A watched folder's options, from the optional `<folder>/pds-trace.json`, checked when the
 * watcher starts: a mistake stops it with the file and the key named, before any file is claimed.
 *
 * ```json
 * { "for": "dr.jones", "format": "mesh", "mapping": "mapping.json", "minimal": false,
 *   "fallbacks": ["search_without_postcode"], "output": "/srv/results", "bom": true }
 * ```
 */
const FOLDER_SETTINGS = z
  .object({
    /** The person the folder's files are traced for: recorded in the audit trail with each batch. */
    for: z.string().trim().min(1).max(100).optional(),
    /** Where outputs go instead of `outbox/`, relative to the folder. */
    output: z.string().min(1).optional(),
    ...TRACE_OPTION_FIELDS,
  })
  .strict();

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

export async function loadWatchFolderSettings(paths: WatchFolderPaths): Promise<WatchFolderSettings> {
  const file = paths.settings;
  let raw: unknown = {};
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new WatchFolderSettingsError(file, [`not readable as JSON (${(err as Error).message})`]);
  }
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
