import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { createRateLimiter, type RateDecision, type RateLimiterOptions } from '../../src/http/rate-limiter.js';

const start = '2026-11-23T10:00:00Z';

function takeMany(limiter: { take(org: string): RateDecision }, org: string, n: number): RateDecision[] {
  return Array.from({ length: n }, () => limiter.take(org));
}

const allowedCount = (decisions: RateDecision[]): number => decisions.filter((d) => d.allowed).length;

describe('rate limiter', () => {
  it('allows a burst, then refuses with the seconds until the next request is available', () => {
    const clock = fixedClock(start);
    const limiter = createRateLimiter({ defaultPerSecond: 2, defaultBurst: 5, clock });
    expect(allowedCount(takeMany(limiter, 'westminster', 5))).toBe(5);
    // Empty bucket, refilling at 2/s: one token in 0.5 s, announced as 1 whole second.
    expect(limiter.take('westminster')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('rounds Retry-After up to whole seconds for slow rates', () => {
    const clock = fixedClock(start);
    const limiter = createRateLimiter({ defaultPerSecond: 0.1, defaultBurst: 1, clock });
    expect(limiter.take('met-police')).toEqual({ allowed: true });
    expect(limiter.take('met-police')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    clock.advance(4_000);
    expect(limiter.take('met-police')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    clock.advance(6_000);
    expect(limiter.take('met-police')).toEqual({ allowed: true });
  });

  it('refills at the configured rate, never above the burst', () => {
    const clock = fixedClock(start);
    const limiter = createRateLimiter({ defaultPerSecond: 2, defaultBurst: 5, clock });
    takeMany(limiter, 'westminster', 5);
    clock.advance(1_000); // 2 tokens back
    expect(allowedCount(takeMany(limiter, 'westminster', 3))).toBe(2);
    clock.advance(60_000); // long idle: back to the burst, not 120
    expect(allowedCount(takeMany(limiter, 'westminster', 10))).toBe(5);
  });

  it('keeps one bucket per organisation', () => {
    const clock = fixedClock(start);
    const limiter = createRateLimiter({ defaultPerSecond: 1, defaultBurst: 2, clock });
    expect(allowedCount(takeMany(limiter, 'westminster', 3))).toBe(2);
    expect(allowedCount(takeMany(limiter, 'kensington-chelsea', 3))).toBe(2);
  });

  it('applies per-organisation limits, and the defaults to everyone else', () => {
    const clock = fixedClock(start);
    const limiter = createRateLimiter({
      defaultPerSecond: 1,
      defaultBurst: 2,
      clock,
      perOrg: (org) => (org === 'met-police' ? { perSecond: 10, burst: 20 } : org === 'school' ? { burst: 4 } : undefined),
    });
    expect(allowedCount(takeMany(limiter, 'met-police', 25))).toBe(20);
    expect(allowedCount(takeMany(limiter, 'school', 10))).toBe(4); // own burst, default rate
    expect(allowedCount(takeMany(limiter, 'westminster', 10))).toBe(2);
    clock.advance(1_000);
    expect(allowedCount(takeMany(limiter, 'met-police', 25))).toBe(10);
    expect(allowedCount(takeMany(limiter, 'school', 10))).toBe(1);
  });

  it('divides rate and burst by the live instances, so the partnership-wide budget holds', () => {
    const clock = fixedClock(start);
    let instances = 4;
    const options: RateLimiterOptions = { defaultPerSecond: 8, defaultBurst: 20, clock, instanceCount: () => instances };
    const a = createRateLimiter(options);
    const b = createRateLimiter(options);
    // Each of 4 instances holds 20 / 4 = 5; two of them together 10.
    expect(allowedCount(takeMany(a, 'westminster', 10)) + allowedCount(takeMany(b, 'westminster', 10))).toBe(10);
    // Refill at 8 / 4 = 2 per second each: one token in 0.5 s.
    expect(a.take('westminster')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(2_000);
    expect(allowedCount(takeMany(a, 'westminster', 10))).toBe(4);
    // One instance left: it now holds the whole budget.
    instances = 1;
    clock.advance(10_000);
    expect(allowedCount(takeMany(a, 'westminster', 30))).toBe(20);
  });

  it('still allows one request per instance when the burst divides below one', () => {
    const clock = fixedClock(start);
    const limiter = createRateLimiter({ defaultPerSecond: 1, defaultBurst: 2, clock, instanceCount: () => 8 });
    expect(takeMany(limiter, 'westminster', 2)).toEqual([{ allowed: true }, { allowed: false, retryAfterSeconds: 8 }]);
  });

  it('refills nothing when the clock steps backwards', () => {
    const clock = fixedClock(start);
    const limiter = createRateLimiter({ defaultPerSecond: 1, defaultBurst: 1, clock });
    expect(limiter.take('westminster')).toEqual({ allowed: true });
    clock.advance(-60_000);
    expect(limiter.take('westminster')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(61_000);
    expect(limiter.take('westminster')).toEqual({ allowed: true });
  });

  it.each([
    [{ defaultPerSecond: 0 }, 'default rate limit: perSecond must be a positive number'],
    [{ defaultPerSecond: Number.POSITIVE_INFINITY }, 'default rate limit: perSecond must be a positive number'],
    [{ defaultBurst: 0.5 }, 'default rate limit: burst must be at least 1'],
  ])('refuses a bad default %o', (options, message) => {
    expect(() => createRateLimiter(options)).toThrow(new TypeError(message));
  });

  it('refuses a bad per-organisation limit loudly rather than letting everything through', () => {
    const limiter = createRateLimiter({ perOrg: () => ({ perSecond: -1 }) });
    expect(() => limiter.take('westminster')).toThrow(new TypeError('rate limit of westminster: perSecond must be a positive number'));
  });
});
