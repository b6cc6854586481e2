import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { AccordError } from '../errors.js';
import { queryTooComplexErrorOf, resolveOperationLimits, type OperationLimitOptions } from './operation-limits.js';

/**
 * Makes an operation refused by the limits answer with `QUERY_TOO_COMPLEX`, whatever formatError
 * does with Apollo's own codes. Apollo rewrites the code of every validation error to
 * GRAPHQL_VALIDATION_FAILED and of every parse error (the token and comment limits) to
 * GRAPHQL_PARSE_FAILED; this plugin finds the limit errors among those and restores the code and
 * our message (which never states the limit's value in production mode).
 *
 * Not needed when formatError already starts with `queryTooComplexErrorOf(error, options)`; it
 * is harmless alongside it.
 */
export function createLimitsPlugin<TContext extends BaseContext>(options: OperationLimitOptions = {}): ApolloServerPlugin<TContext> {
  // Resolved once here so a bad option fails at start-up, not on the first refused request.
  resolveOperationLimits(options);
  return {
    async requestDidStart() {
      let found: Map<number, AccordError> | undefined;
      return {
        // Runs before the errors are formatted, with the same array in the same order as the
        // formatted errors willSendResponse sees; the limit errors are remembered by position.
        async didEncounterErrors({ errors }) {
          errors.forEach((error, index) => {
            const limit = queryTooComplexErrorOf(error, options);
            if (limit !== undefined) (found ??= new Map()).set(index, limit);
          });
        },
        // Runs last, on the formatted body: the remembered positions take our code and message.
        async willSendResponse({ response }) {
          if (found === undefined || response.body.kind !== 'single') return;
          const { singleResult } = response.body;
          const errors = singleResult.errors;
          if (errors === undefined) return;
          singleResult.errors = errors.map((formatted, index): GraphQLFormattedError => {
            const limit = found?.get(index);
            if (limit === undefined) return formatted;
            return {
              message: limit.message,
              ...(formatted.locations === undefined ? {} : { locations: formatted.locations }),
              extensions: { code: limit.code },
            };
          });
        },
      };
    },
  };
}
