/**
 * Text formats the agreement language uses, checked strictly so that the hub, PostgreSQL and
 * every partner read a date or a duration the same way.
 */

import { organisationIdPattern } from '../auth/index.js';

/** Organisation ids as the auth module registers them (CONTRACT §2). */
export const orgIdPattern = organisationIdPattern;
/** Agreement ids follow the same rule as organisation ids: lower-case, URL- and log-safe. */
export const agreementIdPattern = organisationIdPattern;

/** Codes (purposes, roles, data-subject categories): printable, no spaces, bounded. */
export const codePattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTimePattern = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;
const durationPattern = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

/** A real calendar date written YYYY-MM-DD (2026-02-30 is refused). */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = datePattern.exec(value);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** An RFC 3339 date-time with an explicit offset (section 5.6: `Z` or `±hh:mm`). */
export function isRfc3339(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = dateTimePattern.exec(value);
  if (match === null || !isIsoDate(match[1])) return false;
  const [hour, minute, second] = [Number(match[2]), Number(match[3]), Number(match[4])];
  // Leap seconds (60) are legal in RFC 3339 but JavaScript cannot represent them: refuse them.
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (match[7] !== undefined && (Number(match[7]) > 23 || Number(match[8]) > 59)) return false;
  return !Number.isNaN(Date.parse(value));
}

/** An ISO 8601 duration such as `P2Y`, `P6M`, `P1Y6M`, `P30D`, `PT12H`. */
export function isIsoDuration(value: unknown): value is string {
  return typeof value === 'string' && durationPattern.test(value);
}

/** The instant just after the last moment of a YYYY-MM-DD day in UTC. */
export function endOfDayUtcMs(isoDate: string): number {
  return Date.parse(`${isoDate}T00:00:00Z`) + 24 * 60 * 60 * 1000;
}
