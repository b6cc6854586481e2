import { clockSkewSeconds, tokenClaimOf, tokenReplayedMessage } from '../../auth/index.js';
import { disclosureEvents } from '../../audit/index.js';
import { isDatabaseUnavailable } from '../../db/index.js';
import { isAccordError, serviceUnavailableMessage, serviceUnavailableRetryAfterSeconds } from '../../errors.js';
import type { RequestContext } from '../../graphql/context.js';
import { actorOf } from '../../graphql/resolvers/actor.js';
import { refusal, type Refusal } from './refusal.js';

const replayedRefusal = (): Refusal =>
  refusal('UNAUTHENTICATED', tokenReplayedMessage, 'unauthenticated', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });

function outageRefusal(): Refusal {
  return refusal('SERVICE_UNAVAILABLE', serviceUnavailableMessage, 'unavailable', { headers: { 'retry-after': String(serviceUnavailableRetryAfterSeconds) } });
}

function auditUnavailable(context: RequestContext, error: unknown): Refusal {
  context.services.logger.error({ requestId: context.requestId, err: isAccordError(error) ? error.cause ?? error : error }, 'audit write failed: response withheld');
  context.services.metrics.inc('accord_audit_failures_total', 'Requests refused because their audit events could not be committed');
  return refusal('AUDIT_UNAVAILABLE', 'the audit trail could not be written, so nothing was released; try again later', 'audit-unavailable', { headers: { 'retry-after': String(serviceUnavailableRetryAfterSeconds) } });
}

/**
 * Step 6, audit: "no audit, no data" (CONTRACT §7). The request's events (one per disclosure),
 * its token id and the generations it was decided under go to the group commit together; the
 * response may leave only once that has committed. Answers `send`, a refusal that replaces the
 * whole response (no data in it), or `stale` when agreements or keys changed while the request
 * ran, on this or another instance: the request must then be decided again.
 */
export async function auditStep(context: RequestContext): Promise<'send' | 'stale' | Refusal> {
  const { outcome, services } = context;
  if (outcome.stale) return 'stale';
  if (outcome.replayed) return replayedRefusal();
  // A resolver that could not reach the database leaves a hole in the answer that the caller
  // could not tell from "not shared". During an outage the whole response is refused as 503
  // instead, with no data; nothing is audited because nothing leaves, and the token is not used up.
  const outage = outcome.errors.find((error) => isDatabaseUnavailable(error.originalError));
  if (outage !== undefined) {
    services.logger.warn({ requestId: context.requestId, err: outage.originalError }, 'database unavailable');
    return outageRefusal();
  }
  // A write whose own audit events could not be committed (publish, retract, agreements) rolled
  // back; the whole response is withheld.
  const failed = outcome.errors.find(
    (error) => error.extensions?.code === 'AUDIT_UNAVAILABLE' || (isAccordError(error.originalError) && error.originalError.code === 'AUDIT_UNAVAILABLE'),
  );
  if (failed !== undefined) return auditUnavailable(context, failed.originalError ?? failed);

  const events = [
    ...context.events,
    ...disclosureEvents(actorOf(context), context.releases.disclosed(), context.releases.deniedTypes(), context.caller.breakGlass?.reason),
  ];
  const claim = outcome.claimed ? undefined : tokenClaimOf(context.caller, clockSkewSeconds);
  let result;
  try {
    // A mutation claimed its token before it wrote and committed its own events with its write;
    // it is not decided again, so it carries no generations to check.
    result = await services.audit.commit({ events, claim, generations: outcome.claimed ? undefined : context.generations });
  } catch (error) {
    if (isAccordError(error) && error.code === 'AUDIT_UNAVAILABLE') return auditUnavailable(context, error);
    throw error;
  }
  if (claim !== undefined && result.status !== 'stale') services.replay.remember(claim);
  if (result.status === 'replayed') return replayedRefusal();
  if (result.status === 'stale') return 'stale';
  if (events.length > 0) services.metrics.inc('accord_audit_events_total', 'Audit events committed', {}, events.length);
  return 'send';
}
