/** The SQLSTATE and server message of a failed query, whichever driver and wrapper threw it. */
export interface DatabaseErrorInfo {
  readonly code: string | undefined;
  readonly message: string;
}

/**
 * drizzle 0.45 wraps driver errors in DrizzleQueryError (message: the SQL), with the server's
 * error as `cause`; this digs out the server's own code and message.
 */
export function databaseErrorOf(error: unknown): DatabaseErrorInfo | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return { code, message: current.message };
    current = current.cause;
  }
  return undefined;
}

/** Node socket errors and postgres.js's own codes for a connection that failed or went away. */
const connectionErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * SQLSTATEs that mean "the server is not there for us right now", not "this query is wrong":
 * class 08 (connection exception), 57P01-57P03 (terminated by an administrator, crash
 * shutdown, cannot connect now), 53300 (too many connections), 3D000 (the database is gone).
 */
const unavailableStates = /^(08...|57P0[123]|53300|3D000)$/;

/**
 * Whether an error means the hub's database could not be reached (an outage), rather than a
 * bug or bad input: the request is then answered 503 SERVICE_UNAVAILABLE (CONTRACT §6), and
 * the same hub serves again once the database is back.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 20) {
    const current = pending.shift();
    if (!(current instanceof Error) || seen.has(current)) continue;
    seen.add(current);
    if (current instanceof DatabaseUnavailableError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (connectionErrorCodes.has(code) || unavailableStates.test(code)) return true;
      // ALTER DATABASE ... ALLOW_CONNECTIONS false answers new connections with 55000.
      if (code === '55000' && /accepting connections/i.test(current.message)) return true;
    }
    // PGlite closed under us (the embedded database cannot come back without a restart).
    if (/^PGlite is closed/i.test(current.message)) return true;
    pending.push(current.cause);
    // A connect to a host with several addresses fails with one error per address.
    if (current instanceof AggregateError) pending.push(...(current.errors as unknown[]));
  }
  return false;
}

/** Thrown by the hub's own checks (e.g. a readiness probe that timed out) for an unreachable database. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}
