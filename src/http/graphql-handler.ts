import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { RequestContext } from '../graphql/context.js';
import { createRequestContext } from '../graphql/create-request-context.js';
import { logUnexpectedErrors } from '../graphql/error-plugin.js';
import type { HubServices } from '../services.js';
import { auditStep } from './pipeline/audit.js';
import { authenticate } from './pipeline/authenticate.js';
import { parseGraphQLRequest, readRequestBody } from './pipeline/body.js';
import { execute } from './pipeline/execute.js';
import { acceptMethod } from './pipeline/method.js';
import { rateLimit } from './pipeline/rate-limit.js';
import { isRefusal, refusal, sendRefusal } from './pipeline/refusal.js';
import { sendGraphQLResponse } from './pipeline/respond.js';
import { serviceUnavailableMessage, serviceUnavailableRetryAfterSeconds } from '../errors.js';

export interface GraphQLHandlerOptions {
  readonly apollo: ApolloServer<RequestContext>;
  readonly services: HubServices;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
}

/**
 * How many times one request is decided again because agreements or organisation keys changed
 * while it ran (each time under the fresh ones) before it is refused with 503. Changes are rare
 * (a signed agreement or a key rotation), so a second run practically always commits.
 */
const maxDecisions = 3;

export interface HandledRequest {
  readonly org?: string;
  readonly operationName?: string | null;
  readonly outcome: string;
}

/**
 * `POST /graphql` (and GET for queries), as the steps the data flows through (src/http/pipeline/):
 * method, body, authenticate, rate limit, execute, audit, respond. Each step answers its value or
 * a refusal that ends the request with a coded error. Besides loading records, a read costs one
 * database round trip, shared with the requests committing at the same moment: the audit step's
 * group commit, which also claims the token id and checks that the agreements and keys it was
 * decided under are still current; when they are not, the request is decided again from
 * authentication on.
 */
export function createGraphQLHandler(options: GraphQLHandlerOptions) {
  const { apollo, services, maxBodyBytes } = options;
  return async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<HandledRequest> => {
    const method = acceptMethod(req);
    if (isRefusal(method)) return refuse(res, method);
    const raw = await readRequestBody(req, method, maxBodyBytes, services.config.mode !== 'production');
    if (isRefusal(raw)) return refuse(res, raw);

    for (let decision = 1; ; decision += 1) {
      const authenticated = await authenticate(req, services);
      if (isRefusal(authenticated)) return refuse(res, authenticated);
      const { caller } = authenticated;
      if (decision === 1) {
        const limited = await rateLimit(services, caller);
        if (limited !== undefined) return refuse(res, limited, caller.org);
      }
      const request = parseGraphQLRequest(req, method, raw);
      if (isRefusal(request)) return refuse(res, request, caller.org);

      const context = await createRequestContext(services, caller, requestId, authenticated.keysGeneration);
      const response = await execute(apollo, req, request, context);
      const audited = await auditStep(context);
      if (audited !== 'stale') logUnexpectedErrors(context);
      if (audited === 'send') {
        await sendGraphQLResponse(res, response);
        return { org: caller.org, operationName: context.operation.operationName, outcome: String(response.status ?? 200) };
      }
      if (audited !== 'stale') return refuse(res, audited, caller.org, context.operation.operationName);
      if (decision >= maxDecisions) {
        services.logger.warn({ requestId }, `agreements or keys changed under the request ${maxDecisions} times: refused`);
        const busy = refusal('SERVICE_UNAVAILABLE', serviceUnavailableMessage, 'unavailable', { headers: { 'retry-after': String(serviceUnavailableRetryAfterSeconds) } });
        return refuse(res, busy, caller.org, context.operation.operationName);
      }
      // Another instance (or this one) changed agreements or keys while the request ran: load
      // them and decide the request again, from its token on. Nothing of the first run left.
      await Promise.all([services.keys.refresh(), services.decisionIndex.refresh()]);
    }
  };
}

function refuse(res: ServerResponse, refused: ReturnType<typeof refusal>, org?: string, operationName?: string | null): HandledRequest {
  sendRefusal(res, refused);
  return { ...(org === undefined ? {} : { org }), ...(operationName === undefined ? {} : { operationName }), outcome: refused.outcome };
}
