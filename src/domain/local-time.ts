/**
 * Times for people: in the machine's time zone (TZ), with the zone named, e.g.
 * `6 Dec 2026 10:04 GMT` or `6 Jul 2026 11:04 BST`. Files for machines keep ISO 8601 UTC beside it.
 * Month names are spelt here, not by the locale data, which has changed its English abbreviations
 * between ICU versions (`Sep` / `Sept`).
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function localTime(at: Date | string, timeZone?: string): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  ) as Record<string, string>;
  return `${Number(parts.day)} ${MONTHS[Number(parts.month) - 1]} ${parts.year} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}
