import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { verifyToken } from '../auth/index.js';
import { isAccordError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import type { HubServices } from '../services.js';
import { createRequestContext } from '../graphql/create-request-context.js';
import { asksForPersistedQuery, persistedQueryRefusal } from '../graphql/persisted-query.js';
import { BodyTooLargeError, readBody } from './read-body.js';
import { sendGraphQLError } from './respond.js';

export interface GraphQLHandlerOptions {
  readonly apollo: ApolloServer<RequestContext>;
  readonly services: HubServices;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
  return match?.[1];
}

/**
 * `POST /graphql` (and GET for queries): body limit, then authentication (every failure is 401
 * UNAUTHENTICATED before any GraphQL work), then the per-organisation rate limit, then Apollo
 * with a context built for the verified caller.
 */
export function createGraphQLHandler(options: GraphQLHandlerOptions) {
  const { apollo, services, maxBodyBytes } = options;
  return async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<{ org?: string; operationName?: string | null; outcome: string }> => {
    let raw = '';
    if (req.method === 'POST') {
      try {
        raw = await readBody(req, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          const limit = services.config.mode === 'production' ? '' : ` of ${error.limitBytes} bytes`;
          sendGraphQLError(res, 'QUERY_TOO_COMPLEX', `request body exceeds the size limit${limit}`, { status: 413, headers: { connection: 'close' } });
          return { outcome: 'too-large' };
        }
        throw error;
      }
    } else if (req.method !== 'GET') {
      sendGraphQLError(res, 'BAD_USER_INPUT', 'use POST (or GET for queries)', { status: 405, headers: { allow: 'GET, POST' } });
      return { outcome: 'bad-method' };
    }

    const token = bearerToken(req);
    if (token === undefined) {
      sendGraphQLError(res, 'UNAUTHENTICATED', 'an Authorization: Bearer <token> header is required', { headers: { 'www-authenticate': 'Bearer' } });
      return { outcome: 'unauthenticated' };
    }
    let caller;
    try {
      await services.keys.refresh();
      caller = await verifyToken(token, { keys: services.keys, hubId: services.config.hubId, clock: services.clock, replay: services.replay });
    } catch (error) {
      if (isAccordError(error) && error.code === 'UNAUTHENTICATED') {
        sendGraphQLError(res, 'UNAUTHENTICATED', error.message, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
        return { outcome: 'unauthenticated' };
      }
      throw error;
    }

    // Loads the directory (cached by generation) so the organisation's own rate limit is known.
    await services.organisations.get(caller.org);
    const limited = services.rateLimiter.take(caller.org);
    if (!limited.allowed) {
      sendGraphQLError(res, 'RATE_LIMITED', 'too many requests from your organisation; retry later', {
        headers: { 'retry-after': String(limited.retryAfterSeconds) },
      });
      return { org: caller.org, outcome: 'rate-limited' };
    }

    let body: unknown;
    if (req.method === 'POST') {
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/(graphql-response\+)?json\b/i.test(type) && !/^application\/json/i.test(type)) {
        sendGraphQLError(res, 'BAD_USER_INPUT', 'Content-Type must be application/json', { status: 415 });
        return { org: caller.org, outcome: 'bad-request' };
      }
      try {
        body = JSON.parse(raw);
      } catch {
        sendGraphQLError(res, 'BAD_USER_INPUT', 'the request body is not valid JSON', { status: 400 });
        return { org: caller.org, outcome: 'bad-request' };
      }
      if (Array.isArray(body)) {
        sendGraphQLError(res, 'QUERY_TOO_COMPLEX', 'batched requests are not accepted: send one operation per request', { status: 400 });
        return { org: caller.org, outcome: 'bad-request' };
      }
    }

    const url = new URL(req.url ?? '/', 'http://localhost');
    // Refused before Apollo (whose APQ is also off), the same for a hash that was seen and one
    // that was not, so the answer tells nothing of what others sent.
    if (asksForPersistedQuery(body, url.searchParams)) {
      sendGraphQLError(res, 'BAD_USER_INPUT', persistedQueryRefusal, { status: 400 });
      return { org: caller.org, outcome: 'bad-request' };
    }

    const context = await createRequestContext(services, caller, requestId);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => context,
    });
    const outHeaders: Record<string, string> = { 'cache-control': 'no-store' };
    for (const [key, value] of response.headers) outHeaders[key] = value;
    res.writeHead(response.status ?? 200, outHeaders);
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
    return { org: caller.org, operationName: context.operation.operationName, outcome: String(response.status ?? 200) };
  };
}
