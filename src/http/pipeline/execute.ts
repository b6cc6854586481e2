import type { IncomingMessage } from 'node:http';
import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import type { RequestContext } from '../../graphql/context.js';
import type { GraphQLHttpRequest } from './body.js';

/**
 * Step 5, execute: Apollo runs the operation for the caller's context. Nothing is sent yet: the
 * response is held until the audit step has committed what it releases.
 */
export async function execute(apollo: ApolloServer<RequestContext>, req: IncomingMessage, request: GraphQLHttpRequest, context: RequestContext): Promise<HTTPGraphQLResponse> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method, headers, search: request.search, body: request.body },
    context: async () => context,
  });
}
