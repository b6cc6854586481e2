import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { keyedQueryHash } from '../audit/index.js';
import { clockSkewSeconds, tokenClaimOf, tokenReplayedMessage } from '../auth/index.js';
import type { RequestContext } from './context.js';

/**
 * Apollo's side of auditing. The events themselves are committed by the request path's audit
 * step once execution is over (src/http/pipeline/audit.ts); this plugin only
 * - records the operation name and keyed document hash that every event carries,
 * - claims a mutation's token id BEFORE the mutation runs: a replayed token must not write
 *   anything, and a write commits its records and events in its own transaction, so the claim
 *   cannot wait for the end of the request like a read's,
 * - hands the execution's errors to the audit step (outage and failed-write detection).
 */
export function createAuditPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        // Not Apollo's `queryHash` (plain SHA-256, which anyone reading the trail could test
        // guesses of the document's literals against) but a keyed hash under the hub's key.
        async didResolveOperation(requestContext) {
          const context = requestContext.contextValue;
          const { operation, services } = context;
          operation.operationName = requestContext.operationName ?? null;
          operation.queryHash = keyedQueryHash(services.hubKey.queryHashKey, requestContext.source);
          if (requestContext.operation?.operation !== 'mutation') return;
          const claim = tokenClaimOf(context.caller, clockSkewSeconds);
          // With the generations the request was decided under: a write must not run under keys,
          // agreements or an organisation's settings (a source that makes it federated) that
          // another instance has changed. Stale, nothing is claimed and the request is decided
          // again from its token on.
          const result = await services.audit.commit({ events: [], claim, generations: context.generations });
          if (result.status === 'stale') {
            context.outcome.stale = true;
            throw new GraphQLError('agreements or keys changed while the request was decided', { extensions: { code: 'SERVICE_UNAVAILABLE' } });
          }
          services.replay.remember(claim);
          if (result.status === 'replayed') {
            context.outcome.replayed = true;
            throw new GraphQLError(tokenReplayedMessage, { extensions: { code: 'UNAUTHENTICATED' } });
          }
          context.outcome.claimed = true;
        },
        async willSendResponse(requestContext) {
          requestContext.contextValue.outcome.errors = requestContext.errors ?? [];
        },
      };
    },
  };
}
