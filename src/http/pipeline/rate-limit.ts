import type { Caller } from '../../auth/caller.js';
import type { HubServices } from '../../services.js';
import { refusal, type Refusal } from './refusal.js';

/** Step 4, rate limit: the caller's organisation's budget on this instance (memory only). */
export async function rateLimit(services: HubServices, caller: Caller): Promise<Refusal | undefined> {
  // Loads the directory (cached by generation) so the organisation's own rate limit is known.
  await services.organisations.get(caller.org);
  const limited = services.rateLimiter.take(caller.org);
  if (limited.allowed) return undefined;
  return refusal('RATE_LIMITED', 'too many requests from your organisation; retry later', 'rate-limited', {
    headers: { 'retry-after': String(limited.retryAfterSeconds) },
  });
}
