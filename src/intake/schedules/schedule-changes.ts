import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { writeFileAtomic } from '../../csv/output/atomic-file.js';
import { loadSchedules, parseSchedules, ScheduleFileError, type Schedule } from './schedule-file.js';

/**
 * Replacing the schedules file whole, as an administrator does on the web service: the new
 * document is checked by the one parser (`parseSchedules`) before anything is written, written
 * atomically and owner-only, and compared with the file it replaces so the change can be said
 * (and audited) by schedule name.
 */

export interface ScheduleChanges {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
}

export function diffSchedules(before: readonly Schedule[], after: readonly Schedule[]): ScheduleChanges {
  const old = new Map(before.map((s) => [s.name, s]));
  const names = new Set(after.map((s) => s.name));
  const changes: ScheduleChanges = { added: [], changed: [], removed: before.filter((s) => !names.has(s.name)).map((s) => s.name), unchanged: [] };
  for (const s of after) {
    const was = old.get(s.name);
    if (!was) changes.added.push(s.name);
    else if (isDeepStrictEqual(was, s)) changes.unchanged.push(s.name);
    else changes.changed.push(s.name);
  }
  return changes;
}

/** The file's JSON as it stands, for editing; `{ "schedules": [] }` when there is no file yet. */
export async function readSchedulesDocument(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${JSON.stringify({ schedules: [] }, null, 2)}\n`;
    throw err;
  }
}

/**
 * Checks `raw` (throws ScheduleFileError naming each problem; nothing written), then replaces
 * `file`. A file that was missing or could not be read counts as holding no schedules.
 */
export async function replaceSchedules(file: string, raw: unknown): Promise<{ schedules: Schedule[]; changes: ScheduleChanges }> {
  const schedules = parseSchedules(raw, file);
  const before = await loadSchedules(file).catch((err: unknown) => {
    if (err instanceof ScheduleFileError) return [];
    throw err;
  });
  await writeFileAtomic(file, `${JSON.stringify(raw, null, 2)}\n`);
  return { schedules, changes: diffSchedules(before, schedules) };
}
