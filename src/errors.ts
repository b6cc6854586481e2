/**
 * The error codes of CONTRACT §6. Partner systems branch on these strings, so they are API:
 * add to the union, never rename.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_SHARED'
  | 'BAD_USER_INPUT'
  | 'INVALID_AGREEMENT'
  | 'QUERY_TOO_COMPLEX'
  | 'RATE_LIMITED'
  | 'AUDIT_UNAVAILABLE'
  | 'SOURCE_UNAVAILABLE'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/** HTTP status a response takes when this code is the reason the request failed as a whole. */
export const httpStatusOf: Readonly<Record<ErrorCode, number>> = Object.freeze({
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_SHARED: 200,
  BAD_USER_INPUT: 400,
  INVALID_AGREEMENT: 400,
  QUERY_TOO_COMPLEX: 400,
  RATE_LIMITED: 429,
  AUDIT_UNAVAILABLE: 503,
  // A federated source that failed spoils only its own lists: the rest of the response is sent.
  SOURCE_UNAVAILABLE: 200,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
});

/** What a caller is told during a database outage: no host, driver message or SQL, ever. */
export const serviceUnavailableMessage = "the hub's database is unavailable, so nothing was released; try again shortly";

/** Seconds a client is asked to wait (`Retry-After`) during an outage. */
export const serviceUnavailableRetryAfterSeconds = 5;

/** One problem with an input, located by a path such as `scope[1].where.op` or `demographics[3].dateOfBirth`. */
export interface Problem {
  readonly path: string;
  readonly reason: string;
}

/**
 * The only error class domain code throws for bad outside input. Its message is sent to the
 * client as is, so it must never contain data the caller may not see (nor a token).
 */
export class AccordError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AccordError';
    this.code = code;
    this.details = options?.details === undefined ? undefined : Object.freeze({ ...options.details });
  }
}

const maxProblemsInMessage = 10;

/** Bad input with a list of every problem found (not just the first), so a partner can fix them all at once. */
export class InputError extends AccordError {
  readonly problems: readonly Problem[];

  constructor(code: 'BAD_USER_INPUT' | 'INVALID_AGREEMENT', message: string, problems: readonly Problem[]) {
    // The message names the first few problems; the full list is in `details.problems`, so a
    // 1000-item publish with every item wrong still gets a readable message.
    const shown = problems.slice(0, maxProblemsInMessage).map((p) => `${p.path}: ${p.reason}`);
    const more = problems.length > maxProblemsInMessage ? `; and ${problems.length - maxProblemsInMessage} more` : '';
    super(code, `${message}: ${shown.join('; ')}${more}`, {
      details: { problems },
    });
    this.name = 'InputError';
    this.problems = Object.freeze([...problems]);
  }
}

export function isAccordError(error: unknown): error is AccordError {
  return error instanceof AccordError;
}

/** Exhaustiveness check for switches over string-literal unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new TypeError(`unexpected ${what}: ${String(value)}`);
}
