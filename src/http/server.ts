import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDatabaseUnavailable } from '../db/index.js';
import { serviceUnavailableMessage, serviceUnavailableRetryAfterSeconds } from '../errors.js';
import type { HubServices } from '../services.js';
import { requestIdOf } from './request-id.js';
import { sendGraphQLError, sendJson } from './respond.js';

/**
 * How long a stopping hub lets in-flight requests finish before cutting their connections. A
 * stop must finish within 5 s (operator.md): this leaves time to flush the audit and close the
 * database afterwards.
 */
const drainDeadlineMs = 3_000;

/** A route: returns true when it handled the request. */
export type Route = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<boolean>;

export interface HttpServer {
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting connections and resolves once in-flight requests have finished. */
  close(): Promise<void>;
}

/**
 * The hub's HTTP server: fixed endpoints first, then the routes given (GraphQL, sandbox, ...).
 * An error escaping a route is logged with the request id and answered with a generic 500;
 * it never takes the process down.
 */
export function createHttpServer(services: HubServices, routes: readonly Route[]): HttpServer {
  const server = http.createServer(async (req, res) => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-content-type-options', 'nosniff');
    try {
      for (const route of routes) {
        if (await route(req, res, requestId)) return;
      }
      sendJson(res, 404, { error: 'not found' });
    } catch (error) {
      if (res.headersSent) {
        services.logger.error({ requestId, err: error }, 'request failed after its response began');
        res.destroy();
      } else if (isDatabaseUnavailable(error)) {
        // An outage, not a bug: the caller gets 503 and no internals; the hub keeps serving and
        // answers normally again as soon as the database is back.
        services.logger.warn({ requestId, err: error }, 'database unavailable');
        sendGraphQLError(res, 'SERVICE_UNAVAILABLE', serviceUnavailableMessage, { headers: { 'retry-after': String(serviceUnavailableRetryAfterSeconds) } });
      } else {
        services.logger.error({ requestId, err: error }, 'request failed');
        sendGraphQLError(res, 'INTERNAL_SERVER_ERROR', `internal error (request ${requestId})`);
      }
    }
  });
  // Slow-loris protection: a client must send its headers and body promptly.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${shownHost}:${address.port}`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        // A keep-alive connection whose request finishes after close() would otherwise stay
        // open until its keep-alive timeout: close each one as soon as it goes idle, and after
        // the drain deadline cut whatever is left (a client still sending a slow body).
        const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
        const deadline = setTimeout(() => server.closeAllConnections(), drainDeadlineMs);
        server.close(() => {
          clearInterval(idleSweep);
          clearTimeout(deadline);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
