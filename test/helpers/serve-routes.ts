import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP server around a route group; anything it does not handle is a 404 marked `x-unhandled`. */
export async function serveRoutes(routes: { handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> }): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer((req, res) => {
    routes.handle(req, res).then(
      (handled) => {
        if (!handled) {
          res.writeHead(404, { 'x-unhandled': 'yes' });
          res.end();
        }
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
