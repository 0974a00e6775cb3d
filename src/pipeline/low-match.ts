import { STATUSES_WITH_NHS_NUMBER, type TraceStatus } from '../domain/outcome.js';

/**
 * The early warning that a batch is going wrong as a whole: when the first rows find far fewer
 * people than a settable share, the usual cause is the file, not PDS (a wrong column, or dates
 * read in the wrong order), and the person is better told after fifty rows than after a million.
 * NHS England's Mavis cohort import checks its 70% only at the end.
 *
 * Found: rows PDS gave an NHS number for (verified, matched, superseded). Out of every row done but
 * `error` ones: a technical failure says nothing about the file, while a row rejected as invalid
 * (a date that cannot be read as day-first) very much does.
 */

export interface LowMatchSettings {
  /** Rows (other than `error`) to see before judging. */
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
    if (status === 'error') continue;
    rows += n;
    if (STATUSES_WITH_NHS_NUMBER.has(status)) found += n;
  }
  if (rows === 0 || rows < settings.minRows) return undefined;
  const percent = Math.floor((found * 100) / rows);
  return percent < settings.percent ? { rows, found, percent, threshold: settings.percent } : undefined;
}
