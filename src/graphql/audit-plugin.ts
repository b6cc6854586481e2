import type { ApolloServerPlugin } from '@apollo/server';
import { keyedQueryHash, type AuditEventInput } from '../audit/index.js';
import { isDatabaseUnavailable } from '../db/index.js';
import { httpStatusOf, isAccordError, serviceUnavailableMessage, serviceUnavailableRetryAfterSeconds } from '../errors.js';
import { recordTypes } from '../records/index.js';
import type { RequestContext } from './context.js';
import { actorOf } from './resolvers/actor.js';

/** Turns what a request released and withheld into its READ / BREAK_GLASS / DENY events. */
export function releaseEvents(context: RequestContext): AuditEventInput[] {
  const actor = actorOf(context);
  const events: AuditEventInput[] = [];
  // Grouped by owner, so each owner's events of a request take consecutive `seq` numbers. An
  // owner's DPO sees only its own events; with another owner's event between two of them, the
  // gap in `seq` inside one request would tell it that the same request (often about one person)
  // released something of another organisation's, which it may not know.
  const byOwner = [...context.releases.records].sort((a, b) => (a.record.row.ownerOrg < b.record.row.ownerOrg ? -1 : a.record.row.ownerOrg > b.record.row.ownerOrg ? 1 : 0));
  for (const { record, released, withheld } of byOwner) {
    const breakGlass = record.decision.breakGlass;
    events.push({
      ...actor,
      action: breakGlass ? 'BREAK_GLASS' : 'READ',
      outcome: 'SUCCESS',
      ownerOrg: record.row.ownerOrg,
      recordType: record.type,
      recordId: record.row.id,
      nhsNumber: record.row.nhsNumber,
      fields: [...released].sort(),
      agreements: record.decision.sharedUnder,
      sensitivity: recordTypes[record.type].sensitivity,
      details: {
        ...(withheld.size === 0 ? {} : { withheld: [...withheld].sort() }),
        ...(breakGlass && context.caller.breakGlass !== undefined ? { breakGlassReason: context.caller.breakGlass.reason } : {}),
      },
    });
  }
  // A DENY names only what the caller itself asked for (type and NHS number): never which
  // records exist, so the trail stores nothing the caller did not already have.
  for (const { recordType, nhsNumber } of context.releases.denials) {
    events.push({
      ...actor,
      action: 'DENY',
      outcome: 'DENIED',
      recordType,
      nhsNumber,
      sensitivity: recordTypes[recordType].sensitivity,
      details: { reason: 'no agreement shares this record type with the caller for this purpose and role' },
    });
  }
  return events;
}

/**
 * "No audit, no data" (CONTRACT §7). Runs in `willSendResponse`, after execution and before
 * Apollo hands the response to the HTTP layer: the request's events are appended through the
 * group-commit writer and awaited until durably committed. If that fails, the whole result is
 * replaced by AUDIT_UNAVAILABLE (HTTP 503), so no record data leaves unaudited.
 */
export function createAuditPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        // Runs once the operation is known: the name and document hash go on every event. Not
        // Apollo's `queryHash` (plain SHA-256, which anyone reading the trail could test guesses
        // of the document's literals against) but a keyed hash under the hub's key (CONTRACT §7).
        async didResolveOperation(requestContext) {
          const { operation, services } = requestContext.contextValue;
          operation.operationName = requestContext.operationName ?? null;
          operation.queryHash = keyedQueryHash(services.hubKey.queryHashKey, requestContext.source);
        },
        async willSendResponse(requestContext) {
          const context = requestContext.contextValue;
          const refuse = (code: 'AUDIT_UNAVAILABLE' | 'SERVICE_UNAVAILABLE', message: string): void => {
            requestContext.response.body = { kind: 'single', singleResult: { errors: [{ message, extensions: { code, requestId: context.requestId } }] } };
            requestContext.response.http.status = httpStatusOf[code];
            if (code === 'SERVICE_UNAVAILABLE') requestContext.response.http.headers.set('retry-after', String(serviceUnavailableRetryAfterSeconds));
          };
          const withhold = (error: unknown): void => {
            context.services.logger.error(
              { requestId: context.requestId, err: isAccordError(error) ? error.cause ?? error : error },
              'audit write failed: response withheld',
            );
            context.services.metrics.inc('accord_audit_failures_total', 'Requests refused because their audit events could not be committed');
            refuse('AUDIT_UNAVAILABLE', 'the audit trail could not be written, so nothing was released; try again later');
          };
          // A resolver that could not reach the database leaves a hole in the answer that the
          // caller could not tell from "not shared". During an outage the whole response is
          // refused as 503 instead, with no data, and nothing is audited because nothing leaves.
          const outage = requestContext.errors?.find((error) => isDatabaseUnavailable(error.originalError));
          if (outage !== undefined) {
            context.services.logger.warn({ requestId: context.requestId, err: outage.originalError }, 'database unavailable');
            refuse('SERVICE_UNAVAILABLE', serviceUnavailableMessage);
            return;
          }
          // A write whose own audit events could not be committed (publish, retract, agreements)
          // rolled back; the whole response is withheld, with the same 503 as below.
          const failed = requestContext.errors?.find(
            (error) => error.extensions?.code === 'AUDIT_UNAVAILABLE' || (isAccordError(error.originalError) && error.originalError.code === 'AUDIT_UNAVAILABLE'),
          );
          if (failed !== undefined) {
            withhold(failed.originalError ?? failed);
            return;
          }
          const events = [...context.events, ...releaseEvents(context)];
          if (events.length === 0) return;
          try {
            await context.services.audit.append(events);
          } catch (error) {
            withhold(error);
            return;
          }
          context.services.metrics.inc('accord_audit_events_total', 'Audit events committed', {}, events.length);
        },
      };
    },
  };
}
