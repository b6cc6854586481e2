import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from './context.js';
import { isUnexpectedError } from './format-error.js';

/**
 * Logs each unexpected error of a request once, with its cause and the request id, so an
 * operator can find the log line from a partner's report. Called by the request path once the
 * request's run is final: a run discarded because agreements or keys changed meanwhile (and
 * decided again) logs nothing. Expected (coded) errors are not logged as errors: they are the API
 * working.
 */
export function logUnexpectedErrors(context: RequestContext): void {
  const { requestId, services } = context;
  for (const error of context.outcome.errors) {
    if (isUnexpectedError(error)) services.logger.error({ requestId, err: error.originalError ?? error, path: error.path }, 'unexpected error');
  }
}

/**
 * Puts the request id on the masked error the client sees, and merges several bad variables
 * into one BAD_USER_INPUT.
 */
export function createErrorPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse(requestContext) {
          const body = requestContext.response.body;
          if (body?.kind !== 'single' || body.singleResult.errors === undefined) return;
          const { requestId } = requestContext.contextValue;
          const errors = body.singleResult.errors;
          // Several bad variables arrive as one error each; a partner gets them as one
          // BAD_USER_INPUT listing every problem, the same shape the publish validator uses.
          const problems = errors.flatMap((error) => (error.extensions?.code === 'BAD_USER_INPUT' && Array.isArray(error.extensions.problems) && error.path === undefined ? [error.extensions.problems] : []));
          if (errors.length > 1 && problems.length === errors.length) {
            const all = problems.flat() as { path: string; reason: string }[];
            body.singleResult = {
              ...body.singleResult,
              errors: [{ message: `invalid input: ${all.slice(0, 10).map((p) => `${p.path}: ${p.reason}`).join('; ')}${all.length > 10 ? `; and ${all.length - 10} more` : ''}`, extensions: { code: 'BAD_USER_INPUT', problems: all } }],
            };
            return;
          }
          body.singleResult = {
            ...body.singleResult,
            errors: errors.map((error) =>
              error.extensions?.code === 'INTERNAL_SERVER_ERROR' ? { ...error, extensions: { ...error.extensions, requestId } } : error,
            ),
          };
        },
      };
    },
  };
}
