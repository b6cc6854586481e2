import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { isAccordError, type ErrorCode, type Problem } from '../errors.js';
import { persistedQueryRefusal } from './persisted-query.js';
import { ScalarInputError } from './scalars.js';

const contractCodes: ReadonlySet<string> = new Set<ErrorCode>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_SHARED',
  'BAD_USER_INPUT',
  'INVALID_AGREEMENT',
  'QUERY_TOO_COMPLEX',
  'RATE_LIMITED',
  'AUDIT_UNAVAILABLE',
  'SOURCE_UNAVAILABLE',
  'SERVICE_UNAVAILABLE',
]);

/**
 * Apollo's own codes for a request that is not a valid GraphQL operation. Partner systems branch
 * on the CONTRACT §6 codes, so these become BAD_USER_INPUT with Apollo's code kept as `reason`.
 */
const requestProblemCodes: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_FOUND',
]);

const variableError = /^Variable "\$([A-Za-z_][A-Za-z0-9_]*)" got invalid value [\s\S]*?(?: at "([^"]+)")?; ([\s\S]+)$/;

/**
 * A variable that failed coercion, as a problem located like the publish validator's
 * (`demographics[1].dateOfBirth`). graphql-js quotes the bad value in its message; it is left
 * out here (it could be an NHS number in a log), and our scalars' own reason is used when the
 * cause is one of them.
 */
export function variableProblemOf(message: string, error: unknown): Problem | undefined {
  const match = variableError.exec(message);
  if (match === null) return undefined;
  const [, variable = '', at, graphqlReason = ''] = match;
  const cause = (error as { originalError?: unknown }).originalError;
  // graphql-js appends "Did you mean ...?" naming schema members; Apollo's production setting
  // strips those from validation errors only, so they are removed here, in every mode.
  const reason =
    cause instanceof ScalarInputError
      ? cause.message
      : graphqlReason.replace(/\s*Did you mean [^?]*\?/g, '').replace(/"[^"]*"/g, (quoted) => (quoted.length > 40 ? '"…"' : quoted));
  const path = at === undefined ? `$${variable}` : at.startsWith(`${variable}.`) ? at.slice(variable.length + 1) : at.startsWith(`${variable}[`) ? at.slice(variable.length) : at;
  return { path, reason };
}

export const internalErrorMessage = 'internal error: the hub could not complete this request';

/**
 * The one place errors are shaped for clients; it never throws. Coded errors keep their message
 * and code; anything else (a bug, a driver error whose message could quote SQL or data) is
 * masked to a generic message. Stack traces are never included in either case.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  try {
    const original = unwrapResolverError(error);
    const base = {
      ...(formatted.locations === undefined ? {} : { locations: formatted.locations }),
      ...(formatted.path === undefined ? {} : { path: formatted.path }),
    };
    if (isAccordError(original)) {
      const problems = original.details?.problems;
      return {
        message: original.message,
        ...base,
        extensions: { code: original.code, ...(problems === undefined ? {} : { problems }) },
      };
    }
    const problem = variableProblemOf(formatted.message, error);
    if (problem !== undefined) {
      return {
        message: `invalid input at ${problem.path}: ${problem.reason}`,
        ...base,
        extensions: { code: 'BAD_USER_INPUT', problems: [problem] },
      };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && contractCodes.has(code)) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { message: formatted.message, ...base, extensions: { ...extensions, code } };
    }
    if (code === 'PERSISTED_QUERY_NOT_SUPPORTED' || code === 'PERSISTED_QUERY_NOT_FOUND') {
      // Persisted queries are refused (CONTRACT §5); the HTTP layer answers them before Apollo,
      // and this says the same should one reach it. Never "not found": that would tell a caller
      // whether another organisation had sent the document with that hash.
      return { message: persistedQueryRefusal, ...base, extensions: { code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_NOT_SUPPORTED' } };
    }
    if (typeof code === 'string' && requestProblemCodes.has(code)) {
      return { message: formatted.message, ...base, extensions: { code: 'BAD_USER_INPUT', reason: code } };
    }
    return { message: internalErrorMessage, ...base, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  } catch {
    return { message: internalErrorMessage, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
}

/** Whether an error reaching Apollo is an unexpected one (to be logged once with the request id). */
export function isUnexpectedError(error: unknown): boolean {
  const original = unwrapResolverError(error);
  if (isAccordError(original)) return false;
  const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
  return !(typeof code === 'string' && (contractCodes.has(code) || requestProblemCodes.has(code)));
}
