import { systemClock, type Clock } from '../clock.js';

/** A token bucket's shape: it refills at `perSecond` and holds at most `burst` requests. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export interface RateLimiterOptions {
  /** Requests per second an organisation may make across the whole partnership (default 20). */
  readonly defaultPerSecond?: number;
  /** Requests an idle organisation may make at once across the partnership (default 40). */
  readonly defaultBurst?: number;
  /**
   * An organisation's own limit (the `rate_limit_per_second` / `rate_limit_burst` columns), or
   * undefined for the defaults. Called on every `take`, so it must be a cheap, in-memory lookup.
   */
  readonly perOrg?: (org: string) => Partial<RateLimit> | undefined;
  readonly clock?: Clock;
  /**
   * Live hub instances sharing the partnership-wide budget (the instance registry's count);
   * default 1. Each instance enforces `1 / instanceCount()` of every limit.
   */
  readonly instanceCount?: () => number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  /** Spends one request of `org`'s budget, or says how long until one is available. */
  take(org: string): RateDecision;
}

export const defaultRateLimit: RateLimit = Object.freeze({ perSecond: 20, burst: 40 });

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

function assertRate(limit: RateLimit, what: string): void {
  if (!(Number.isFinite(limit.perSecond) && limit.perSecond > 0)) throw new TypeError(`${what}: perSecond must be a positive number`);
  if (!(Number.isFinite(limit.burst) && limit.burst >= 1)) throw new TypeError(`${what}: burst must be at least 1`);
}

/**
 * Per-organisation token buckets, keyed by the *verified* caller organisation: keying on an
 * unverified `iss` would let anyone spend a victim organisation's budget with forged tokens.
 *
 * With several hub instances behind a load balancer, each one enforces `limit / liveInstances`
 * locally, so the partnership-wide budget holds without a shared counter and no database round
 * trip per request. The trade-offs (docs/security.md): for up to one heartbeat after an instance
 * joins, the older instances still divide by the old count (the total may briefly exceed the
 * limit by one instance's share, plus that instance's fresh burst); after an instance leaves, the
 * rest under-allow until they notice; and a client whose requests all reach one instance gets
 * only that instance's share, so the balancer must spread requests, not connections.
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const defaults: RateLimit = {
    perSecond: options.defaultPerSecond ?? defaultRateLimit.perSecond,
    burst: options.defaultBurst ?? defaultRateLimit.burst,
  };
  assertRate(defaults, 'default rate limit');
  const clock = options.clock ?? systemClock;
  const instanceCount = options.instanceCount ?? (() => 1);
  const buckets = new Map<string, Bucket>();

  return {
    take(org) {
      const own = options.perOrg?.(org);
      const limit: RateLimit = { perSecond: own?.perSecond ?? defaults.perSecond, burst: own?.burst ?? defaults.burst };
      assertRate(limit, `rate limit of ${org}`);
      const instances = Math.max(1, Math.floor(instanceCount()));
      const perSecond = limit.perSecond / instances;
      // Never below one request, or an organisation with a small burst could make no request at all.
      const capacity = Math.max(1, limit.burst / instances);
      const nowMs = clock().getTime();

      let bucket = buckets.get(org);
      if (bucket === undefined) {
        bucket = { tokens: capacity, updatedAtMs: nowMs };
        buckets.set(org, bucket);
      } else {
        // A clock stepping backwards refills nothing rather than draining the bucket.
        const elapsedSeconds = Math.max(0, nowMs - bucket.updatedAtMs) / 1000;
        bucket.tokens = Math.min(capacity, bucket.tokens + elapsedSeconds * perSecond);
        bucket.updatedAtMs = Math.max(bucket.updatedAtMs, nowMs);
      }

      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      // Whole seconds, rounded up (RFC 9110 §10.2.3 Retry-After is delay-seconds), never 0.
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
    },
  };
}
