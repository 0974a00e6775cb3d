import { CronExpressionParser } from 'cron-parser';

/**
 * Whether a schedule fires near the hour the clocks change in its time zone (01:00–02:00 in
 * Europe/London, twice a year): a run then may be skipped or made twice by the clock, so `sync`
 * warns and names the dates.
 */

const HOUR_MS = 60 * 60 * 1000;
/** Enough for any sensible nightly pattern over a year; a seconds pattern is looked at for a while only. */
const MAX_FIRES = 2_000;

function offsetAt(format: Intl.DateTimeFormat, at: number): string {
  return format.formatToParts(new Date(at)).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

/** Fire times in the next year that fall within an hour of a change of the zone's offset. */
export function firesNearClockChange(cron: string, zone: string, from: Date): Date[] {
  const expression = CronExpressionParser.parse(cron, { tz: zone, currentDate: from });
  const until = from.getTime() + 366 * 24 * HOUR_MS;
  const format = new Intl.DateTimeFormat('en-GB', { timeZone: zone, timeZoneName: 'longOffset' });
  const found: Date[] = [];
  for (let i = 0; i < MAX_FIRES && expression.hasNext(); i++) {
    const at = expression.next().toDate().getTime();
    if (at > until) break;
    if (offsetAt(format, at - HOUR_MS) !== offsetAt(format, at + HOUR_MS)) found.push(new Date(at));
  }
  return found;
}
