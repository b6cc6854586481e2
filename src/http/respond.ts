import type { ServerResponse } from 'node:http';
import { httpStatusOf, type ErrorCode } from '../errors.js';

/** Sends a JSON body with the given status (and extra headers). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * A GraphQL-shaped error response for failures before execution (authentication, rate limits,
 * malformed bodies), so clients parse every failure the same way.
 */
export function sendGraphQLError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  options: { status?: number; headers?: Record<string, string> } = {},
): void {
  sendJson(res, options.status ?? httpStatusOf[code], { errors: [{ message, extensions: { code } }] }, options.headers);
}
