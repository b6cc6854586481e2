import { describe, expect, it } from 'vitest';
import { isValidDate, parseDateTime } from '../../src/records/dates.js';

describe('isValidDate', () => {
  it.each(['2024-02-29', '2000-02-29', '2026-01-01', '2026-12-31', '0001-01-01', '9999-12-31', '2026-04-30'])(
    'accepts %s',
    (value) => {
      expect(isValidDate(value)).toBe(true);
    },
  );

  it.each([
    ['2025-02-29', 'Feb 29 of a non-leap year'],
    ['1900-02-29', 'Feb 29 of a century that is not a leap year'],
    ['2026-04-31', 'April has 30 days'],
    ['2026-13-01', 'month 13'],
    ['2026-00-10', 'month 0'],
    ['2026-01-00', 'day 0'],
    ['0000-01-01', 'year 0'],
    ['2026-1-01', 'one-digit month'],
    ['26-01-01', 'two-digit year'],
    ['2026/01/01', 'slashes'],
    ['2026-01-01T00:00:00Z', 'a date-time'],
    [' 2026-01-01', 'leading space'],
    ['+02026-01-01', 'expanded year'],
    ['', 'empty'],
  ])('refuses %j (%s)', (value) => {
    expect(isValidDate(value)).toBe(false);
  });
});

describe('parseDateTime', () => {
  it.each([
    ['2026-11-23T10:15:00Z', '2026-11-23T10:15:00.000Z'],
    ['2026-11-23t10:15:00z', '2026-11-23T10:15:00.000Z'],
    ['2026-11-23T10:15:00.250+01:00', '2026-11-23T09:15:00.250Z'],
    ['2026-11-23T10:15:00.123456789-05:30', '2026-11-23T15:45:00.123Z'],
    ['2024-02-29T23:59:59+00:00', '2024-02-29T23:59:59.000Z'],
    ['2026-01-01T00:30:00+01:00', '2025-12-31T23:30:00.000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('parses %s as %s', (value, iso) => {
    expect(parseDateTime(value)?.toISOString()).toBe(iso);
  });

  it.each([
    ['2026-11-23T10:15:00', 'no offset'],
    ['2026-11-23 10:15:00Z', 'space instead of T'],
    ['2026-11-23', 'a date only'],
    ['2025-02-29T10:00:00Z', 'a day the calendar does not have'],
    ['2026-11-23T24:00:00Z', 'hour 24'],
    ['2026-11-23T10:60:00Z', 'minute 60'],
    ['2026-12-31T23:59:60Z', 'leap second'],
    ['2026-11-23T10:15:00+24:00', 'offset hour 24'],
    ['2026-11-23T10:15:00+0100', 'offset without colon'],
    ['2026-11-23T10:15Z', 'no seconds'],
    ['2026-11-23T10:15:00.Z', 'empty fraction'],
    ['1700000000000', 'epoch milliseconds'],
    ['', 'empty'],
  ])('refuses %j (%s)', (value) => {
    expect(parseDateTime(value)).toBeUndefined();
  });
});
