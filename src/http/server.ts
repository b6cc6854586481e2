import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HubServices } from '../services.js';
import { requestIdOf } from './request-id.js';
import { sendGraphQLError, sendJson } from './respond.js';

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
      services.logger.error({ requestId, err: error }, 'request failed');
      if (!res.headersSent) sendGraphQLError(res, 'INTERNAL_SERVER_ERROR', `internal error (request ${requestId})`);
      else res.destroy();
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
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
