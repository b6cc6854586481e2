/**
 * Calendar dates and RFC 3339 instants as they cross the hub's boundary. Both are checked
 * strictly: a date the calendar does not have (2025-02-29) is refused rather than rolled over,
 * and an instant without a time-zone offset is refused because it would mean different moments
 * to different partners.
 */

const datePattern = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
// RFC 3339 §5.6 date-time; "T" and "Z" are case-insensitive there (ABNF strings).
const dateTimePattern =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  // Year 0 does not exist in PostgreSQL's (proleptic Gregorian, AD) calendar.
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** True for `YYYY-MM-DD` naming a day that exists in the (Gregorian) calendar, years 0001 to 9999. */
export function isValidDate(value: string): boolean {
  if (typeof value !== 'string') return false;
  const match = datePattern.exec(value);
  if (match === null) return false;
  return isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]));
}

/**
 * Parses an RFC 3339 date-time with a mandatory offset (`Z` or `±hh:mm`), e.g.
 * `2026-11-23T10:15:00Z` or `2026-11-23T10:15:00.250+01:00`. Returns `undefined` for anything
 * else, including local times without an offset and impossible dates or times. Fractions beyond
 * milliseconds are truncated (a JavaScript Date holds milliseconds). Leap seconds (`:60`) are
 * refused: a Date cannot represent them and no partner system is expected to send them.
 */
export function parseDateTime(value: string): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const m = dateTimePattern.exec(value);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number, number, number, number, number, number,
  ];
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(1, 4).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const utc = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return new Date(utc.getTime() - offsetMinutes * 60_000);
}
