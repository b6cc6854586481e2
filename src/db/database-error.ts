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
