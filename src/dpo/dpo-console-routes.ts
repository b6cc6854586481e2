/**
 * The DPO console's HTTP routes: `GET /dpo` (the page) and `GET /dpo/console.js` (its script).
 * Served in demo and production mode alike: they hold no audit data and no token. Everything the
 * console shows is fetched by the browser from `POST /graphql` with the DPO's own token, so the
 * hub's ordinary authentication, role checks and audit apply to it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { demoPartnership } from '../sandbox/index.js';
import { dpoConsoleStyle, renderDpoConsolePage, type DpoPersona } from './dpo-console-page.js';

export const dpoConsolePath = '/dpo';
export const dpoConsoleScriptPath = '/dpo/console.js';

const scriptFile = new URL('./client/dpo-console.js', import.meta.url);

const sha256Base64 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/**
 * Same-origin everything: the script only from this hub (no inline script, no eval), the one
 * inline stylesheet by its hash, fetches only to this hub, no frames, forms or plugins. A DPO's
 * pasted token can therefore be sent nowhere but here, even if a value shown on the page were
 * crafted to look like markup (it is only ever set as text).
 */
export const dpoContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  `style-src 'sha256-${sha256Base64(dpoConsoleStyle)}'`,
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = {
  'content-security-policy': dpoContentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export interface DpoConsoleRoutes {
  /** Serves the request when it is a console route (and answers true); otherwise touches nothing and answers false. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

/**
 * The demo partnership's DPO personas, offered by the page only when `/sandbox/token` exists
 * (demo mode). Taken from the sandbox's own persona list so the two cannot disagree.
 */
function demoDpoPersonas(): DpoPersona[] {
  return demoPartnership({ referenceYear: 2026 })
    .personas.filter((persona) => persona.roles.includes('dpo'))
    .map(({ id, label, org, sub, roles, purpose }) => ({ id, label, org, sub, roles, purpose }));
}

/** The console routes for the HTTP server to mount; the page and script are built once. */
export function createDpoConsoleRoutes(): DpoConsoleRoutes {
  const page = Buffer.from(renderDpoConsolePage({ scriptPath: dpoConsoleScriptPath, demoPersonas: demoDpoPersonas() }), 'utf8');
  const script = fs.readFileSync(scriptFile);
  // The script changes only with a deploy: a conditional request revalidates it cheaply.
  const scriptEtag = `"${createHash('sha256').update(script).digest('base64url').slice(0, 22)}"`;

  function send(req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string>): void {
    res.writeHead(200, { ...securityHeaders, ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return {
    async handle(req, res) {
      const route = new URL(req.url ?? '/', 'http://dpo.invalid').pathname;
      if (route !== dpoConsolePath && route !== `${dpoConsolePath}/` && route !== dpoConsoleScriptPath) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'use GET or HEAD' } }));
        return true;
      }
      if (route === dpoConsoleScriptPath) {
        const headers = { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', etag: scriptEtag };
        const ifNoneMatch = req.headers['if-none-match'];
        if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === scriptEtag)) {
          res.writeHead(304, { ...securityHeaders, ...headers });
          res.end();
          return true;
        }
        send(req, res, script, headers);
        return true;
      }
      send(req, res, page, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return true;
    },
  };
}
