import { describe, expect, it } from 'vitest';
import { agreementStatus, statusesOfVersions, type AgreementStatus } from '../../src/agreements/index.js';

interface Row {
  validFrom: string;
  validUntil: string;
  reviewBy?: string | undefined;
  revokedAt: string | null;
}
const base: Row = { validFrom: '2026-01-01T00:00:00Z', validUntil: '2027-12-31T23:59:59Z', reviewBy: '2027-06-30', revokedAt: null };

describe('agreementStatus', () => {
  it.each<[string, string, Partial<Row>, boolean, AgreementStatus]>([
    ['before validFrom', '2025-12-31T23:59:59Z', {}, false, 'PENDING'],
    ['at validFrom', '2026-01-01T00:00:00Z', {}, false, 'ACTIVE'],
    ['inside the window', '2026-06-01T12:00:00Z', {}, false, 'ACTIVE'],
    ['on the reviewBy day itself', '2027-06-30T23:59:59Z', {}, false, 'ACTIVE'],
    ['the day after reviewBy (UTC)', '2027-07-01T00:00:00Z', {}, false, 'SUSPENDED'],
    ['past reviewBy with no review date set', '2027-07-01T00:00:00Z', { reviewBy: undefined }, false, 'ACTIVE'],
    ['at validUntil (inclusive)', '2027-12-31T23:59:59Z', { reviewBy: undefined }, false, 'ACTIVE'],
    ['after validUntil', '2028-01-01T00:00:00Z', {}, false, 'EXPIRED'],
    ['expired beats suspended', '2028-01-01T00:00:00Z', { reviewBy: '2027-06-30' }, false, 'EXPIRED'],
    ['revoked, even while in its window', '2026-06-01T12:00:00Z', { revokedAt: '2026-05-01T00:00:00Z' }, false, 'REVOKED'],
    ['revoked beats superseded', '2026-06-01T12:00:00Z', { revokedAt: '2026-05-01T00:00:00Z' }, true, 'REVOKED'],
    ['a newer version has taken effect', '2026-06-01T12:00:00Z', {}, true, 'SUPERSEDED'],
    ['superseded beats pending and expired', '2029-01-01T00:00:00Z', {}, true, 'SUPERSEDED'],
  ])('%s', (_name, now, change, superseded, expected) => {
    expect(agreementStatus({ ...base, ...change }, { now: new Date(now), superseded })).toBe(expected);
  });
});

describe('statusesOfVersions', () => {
  const v = (version: number, more: Partial<Row> = {}) => ({ ...base, version, ...more });

  it('supersedes every lower version once a higher one takes effect, but not before', () => {
    const versions = [v(1), v(2, { validFrom: '2026-07-01T00:00:00Z' }), v(3, { validFrom: '2027-01-01T00:00:00Z' })];
    expect(Object.fromEntries(statusesOfVersions(versions, new Date('2026-06-01T00:00:00Z')))).toEqual({ 1: 'ACTIVE', 2: 'PENDING', 3: 'PENDING' });
    expect(Object.fromEntries(statusesOfVersions(versions, new Date('2026-08-01T00:00:00Z')))).toEqual({ 1: 'SUPERSEDED', 2: 'ACTIVE', 3: 'PENDING' });
    expect(Object.fromEntries(statusesOfVersions(versions, new Date('2027-02-01T00:00:00Z')))).toEqual({ 1: 'SUPERSEDED', 2: 'SUPERSEDED', 3: 'ACTIVE' });
  });

  it('a newer version revoked after it took effect keeps superseding: revoking it stops the sharing', () => {
    const versions = [v(1), v(2, { validFrom: '2026-03-01T00:00:00Z', revokedAt: '2026-05-01T00:00:00Z' })];
    expect(Object.fromEntries(statusesOfVersions(versions, new Date('2026-06-01T00:00:00Z')))).toEqual({ 1: 'SUPERSEDED', 2: 'REVOKED' });
  });

  it('a newer version revoked before its validFrom never took effect and supersedes nothing', () => {
    const versions = [v(1), v(2, { validFrom: '2026-07-01T00:00:00Z', revokedAt: '2026-05-01T00:00:00Z' })];
    expect(Object.fromEntries(statusesOfVersions(versions, new Date('2026-08-01T00:00:00Z')))).toEqual({ 1: 'ACTIVE', 2: 'REVOKED' });
  });

  it('a newer version that took effect and is now suspended or expired keeps superseding the older one', () => {
    const suspended = [v(1, { reviewBy: undefined }), v(2, { reviewBy: '2026-03-31' })];
    expect(Object.fromEntries(statusesOfVersions(suspended, new Date('2026-06-01T00:00:00Z')))).toEqual({ 1: 'SUPERSEDED', 2: 'SUSPENDED' });
    const expired = [v(1, { reviewBy: undefined }), v(2, { reviewBy: undefined, validUntil: '2026-04-30T23:59:59Z' })];
    expect(Object.fromEntries(statusesOfVersions(expired, new Date('2026-06-01T00:00:00Z')))).toEqual({ 1: 'SUPERSEDED', 2: 'EXPIRED' });
  });
});
