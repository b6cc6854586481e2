import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go (default: stdout). Tests pass a stream to read them back. */
  readonly destination?: DestinationStream;
}

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a logged object. Tokens are
 * bearer credentials (anyone holding one may act as its subject until it expires), cookies the
 * same; GraphQL variables and request bodies carry record contents. The request line below never
 * includes them: this is the net under every other log call.
 */
export const redactedPaths: readonly string[] = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'cookie',
  '*.cookie',
  'headers.cookie',
  'req.headers.cookie',
  'request.headers.cookie',
  'headers["set-cookie"]',
  'res.headers["set-cookie"]',
  'variables',
  '*.variables',
  'body',
  '*.body',
];

/**
 * drizzle's DrizzleQueryError puts the statement's parameters (record contents) in its message,
 * after "params:"; PostgreSQL's `detail` quotes the offending values ("Key (x)=(...)").
 */
const paramsInMessage = /\nparams:[\s\S]*$/;

interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  code?: string;
  cause?: SerializedError | string;
}

/**
 * pino's `err` serializer, narrowed: name, message (parameters cut off), stack (likewise), a
 * SQLSTATE or other string code, and the cause chain. Driver fields such as `detail`, `params`,
 * `query` and `where`, which can quote record contents, are dropped.
 */
export function serializeError(error: unknown, depth = 0): SerializedError | string {
  if (!(error instanceof Error)) return typeof error === 'string' ? error.replace(paramsInMessage, '\nparams: [redacted]') : String(error);
  const message = error.message.replace(paramsInMessage, '\nparams: [redacted]');
  // The class name, as pino's own serializer does (DrizzleQueryError leaves `name` as "Error").
  const serialized: SerializedError = { type: error.constructor.name || error.name, message };
  if (error.stack !== undefined) serialized.stack = error.stack.replace(error.message, message);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') serialized.code = code;
  if (error.cause !== undefined && depth < 4) serialized.cause = serializeError(error.cause, depth + 1);
  return serialized;
}

/** The hub's logger: JSON lines (pino), secrets and record contents redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      // Which instance wrote a line matters once several hubs share one database.
      base: { service: 'accord', pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...redactedPaths], censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
    },
    options.destination,
  );
}

export interface RequestLogFields {
  readonly requestId: string;
  /** The verified caller organisation; absent before authentication succeeded. */
  readonly org?: string | undefined;
  readonly operationName?: string | null | undefined;
  readonly durationMs: number;
  /** How the request ended: e.g. a status or an error code (`RATE_LIMITED`, `unauthenticated`). */
  readonly outcome: string;
  readonly status: number;
}

/**
 * The one line logged per request: `logger.info(requestLogLine(fields))`. It is built from these
 * fields only, so no token, variable or record value can ride along in it.
 */
export function requestLogLine(fields: RequestLogFields): Record<string, string | number | null> {
  return {
    msg: 'request',
    requestId: fields.requestId,
    org: fields.org ?? null,
    operationName: fields.operationName ?? null,
    durationMs: Math.round(fields.durationMs * 1000) / 1000,
    outcome: fields.outcome,
    status: fields.status,
  };
}
