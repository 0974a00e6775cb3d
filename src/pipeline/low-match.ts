import { STATUSES_WITH_NHS_NUMBER, type TraceStatus } from '../domain/outcome.js';

/**
 * The early warning that a batch is going wrong as a whole: when the first rows find far fewer
 * people than a settable share, the usual cause is the file, not PDS (a wrong column, or dates
 * read in the wrong order), and the person is better told after fifty rows than after a million.
 * NHS England's Mavis cohort import checks its 70% only at the end.
 *
 * Found: rows PDS gave an NHS number for (verified, matched, superseded), out of the rows PDS
 * answered about. Not `error` rows (a technical failure says nothing about the file), and not
 * `invalid_input` ones: those are every rejected row of the whole file, counted at once when it is
 * read, so they would make a file with a few bad rows look hopeless before anything was traced.
 * (A file read the wrong way round still shows: its dates that cannot be read are rejected, and
 * those that can, with day and month swapped, find nobody.)
 */

export interface LowMatchSettings {
  /** Rows PDS answered about to see before judging. */
  minRows: number;
  /** Warn below this percentage found. */
  percent: number;
}

export interface LowMatch {
  /** Rows judged, and how many of them were found. */
  rows: number;
  found: number;
  /** found / rows, as a whole percentage rounded down. */
  percent: number;
  threshold: number;
}

export function earlyLowMatch(byStatus: Partial<Record<TraceStatus, number>>, settings: LowMatchSettings): LowMatch | undefined {
  let rows = 0;
  let found = 0;
  for (const [status, n] of Object.entries(byStatus) as Array<[TraceStatus, number]>) {
    if (status === 'error' || status === 'invalid_input') continue;
    rows += n;
    if (STATUSES_WITH_NHS_NUMBER.has(status)) found += n;
  }
  if (rows === 0 || rows < settings.minRows) return undefined;
  const percent = Math.floor((found * 100) / rows);
  return percent < settings.percent ? { rows, found, percent, threshold: settings.percent } : undefined;
}
