/**
 * Times for people: in the server's local time zone, with the zone named ("6 December 2026 at
 * 10:15 GMT"), so a batch submitted at 00:30 BST is not read as the day before. Files and the API
 * keep ISO 8601 UTC.
 */
const LOCAL_TIME = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});

export function formatLocalTime(time: Date, format: Intl.DateTimeFormat = LOCAL_TIME): string {
  const part = (type: Intl.DateTimeFormatPartTypes) => format.formatToParts(time).find((p) => p.type === type)?.value ?? '';
  return `${part('day')} ${part('month')} ${part('year')} at ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}
