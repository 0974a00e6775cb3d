import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../csv/output/atomic-file.js';

/**
 * The note beside a file set aside in `failed/`: `<name>.error.txt`, saying why in words an
 * administrator can act on, and on its last line the reason as a code (`reason: no_rows`), so
 * that the web service can count set-aside files by reason without reading the words (which may
 * name files and paths) or guessing from them.
 */

export const NOTE_SUFFIX = '.error.txt';

/** Why a file was set aside, as a code: the batch's rejection reason, or one of these. */
export const SET_ASIDE_REASONS = {
  duplicate_input: 'the same bytes were traced recently',
  settings_invalid: "the folder's settings (pds-trace.json) had a mistake",
} as const;

export async function writeFailureNote(failedDir: string, name: string, reason: string, code: string): Promise<void> {
  await writeFileAtomic(path.join(failedDir, `${name}${NOTE_SUFFIX}`), `${name} was not traced: ${reason}\nreason: ${code}\n`);
}

/** The reason codes of the notes in `failedDir`, one per note (`unknown` for a note without one). */
export async function failureNoteCodes(failedDir: string): Promise<string[]> {
  const names = await readdir(failedDir).catch(() => [] as string[]);
  const notes = names.filter((n) => n.endsWith(NOTE_SUFFIX) && !n.startsWith('.'));
  return Promise.all(
    notes.map(async (n) => {
      const text = await readFile(path.join(failedDir, n), 'utf8').catch(() => '');
      return /^reason: ([a-z0-9_]+)$/m.exec(text)?.[1] ?? 'unknown';
    }),
  );
}
