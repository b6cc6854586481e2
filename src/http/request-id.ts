import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const acceptable = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * The request id: a caller's `X-Request-Id` when it is a plain token of 8-64 characters (so logs
 * and audit rows can be joined with the partner's own), otherwise a new UUID. Anything else is
 * ignored rather than echoed, so the header cannot inject into logs.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && acceptable.test(given) ? given : randomUUID();
}
