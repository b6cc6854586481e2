/**
 * The sandbox's HTTP routes (demo mode only): `GET /sandbox`, `GET /sandbox/assets/*` and
 * `POST /sandbox/token`. In production mode none of them exists: `handle` answers false for
 * every request and the hub falls through to its 404.
 */
import fs from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Mode } from '../config.js';
import type { Db } from '../db/index.js';
import { AccordError, httpStatusOf, isAccordError, type InputError } from '../errors.js';
import { BodyTooLargeError, readBody } from '../http/pipeline/read-body.js';
import { sendJson } from '../http/respond.js';
import type { SandboxConfig } from './client/sandbox-config.js';
import { readDemoSeedRecord } from './demo-keys.js';
import { demoPartnership, type DemoPartnership } from './demo-partnership.js';
import { mintPersonaToken, parsePersonaRequest } from './mint-persona-token.js';
import { ensureSandboxAssets, sandboxAssetsDir, type SandboxManifest } from './sandbox-assets.js';
import { renderSandboxPage } from './sandbox-page.js';

export const sandboxPath = '/sandbox';
export const sandboxAssetsPath = '/sandbox/assets/';
export const sandboxTokenPath = '/sandbox/token';
/** A persona is a few short strings: anything larger is not one. */
export const personaBodyMaxBytes = 4096;

/**
 * Only 'self': no CDN, no inline script, no eval. `style-src` also allows inline styles because
 * GraphiQL 5's editor (Monaco) writes its theme and line layout as `<style>` elements and style
 * attributes at run time; styles cannot run script, and `script-src` stays 'self' alone. Fonts
 * and images may be `data:` URIs: GraphiQL's stylesheet embeds its fonts that way.
 */
export const sandboxContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const pageHeaders = {
  'content-security-policy': sandboxContentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const contentTypes: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface SandboxRoutesOptions {
  readonly mode: Mode;
  readonly dataDir: string;
  readonly db: Db;
  readonly hubId: string;
  readonly clock: Clock;
  /** Where the built assets are (default src/sandbox/assets/); tests point it elsewhere. */
  readonly assetsDir?: string;
  /** Resolves the current build; default: build on demand when missing. */
  readonly loadManifest?: () => Promise<SandboxManifest>;
  readonly log?: (line: string) => void;
}

export interface SandboxRoutes {
  /** Serves the request when it is a sandbox route (and answers true); otherwise touches nothing and answers false. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

type Encoding = 'br' | 'gzip' | 'identity';

/** The best encoding the client accepts, preferring brotli (RFC 9110 §12.5.3 q-values; q=0 refuses). */
export function negotiateEncoding(acceptEncoding: string | undefined): Encoding {
  if (acceptEncoding === undefined) return 'identity';
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name === undefined || name === '') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    accepted.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const weightOf = (name: string) => accepted.get(name) ?? accepted.get('*') ?? 0;
  if (weightOf('br') > 0) return 'br';
  if (weightOf('gzip') > 0) return 'gzip';
  return 'identity';
}

function sendError(res: ServerResponse, error: AccordError, status = httpStatusOf[error.code]): void {
  const problems = (error as Partial<InputError>).problems;
  sendJson(res, status, { error: { code: error.code, message: error.message, ...(problems === undefined ? {} : { problems }) } });
}

function purposesOf(partnership: DemoPartnership): string[] {
  const codes = new Set<string>(partnership.personas.map((p) => p.purpose));
  for (const agreement of partnership.agreements) for (const purpose of agreement.document.purposes) codes.add(purpose.code);
  return [...codes].sort();
}

/**
 * The sandbox routes for the HTTP server to mount. In demo mode the page is rendered from the
 * partnership actually seeded (its reference year is kept in the data directory), and the
 * GraphiQL bundle is built on first use if `npm ci` did not build it.
 */
export function createSandboxRoutes(options: SandboxRoutesOptions): SandboxRoutes {
  if (options.mode !== 'demo') {
    return { handle: async () => false };
  }
  const assetsDir = options.assetsDir ?? sandboxAssetsDir;
  const loadManifest = options.loadManifest ?? (() => ensureSandboxAssets(options.log));
  const fileCache = new Map<string, Buffer>();

  async function partnership(): Promise<DemoPartnership> {
    const seeded = await readDemoSeedRecord(options.dataDir);
    return demoPartnership({ referenceYear: seeded?.referenceYear ?? options.clock().getUTCFullYear() });
  }

  async function servePage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [manifest, demo] = await Promise.all([loadManifest(), partnership()]);
    const config: SandboxConfig = {
      graphqlUrl: '/graphql',
      tokenUrl: sandboxTokenPath,
      workers: {
        editor: sandboxAssetsPath + manifest.workers.editor,
        json: sandboxAssetsPath + manifest.workers.json,
        graphql: sandboxAssetsPath + manifest.workers.graphql,
      },
      personas: demo.personas,
      organisations: demo.organisations.map(({ id, name }) => ({ id, name })),
      examples: demo.examples,
    };
    const html = renderSandboxPage({ manifest, assetsPath: sandboxAssetsPath, config, purposes: purposesOf(demo) });
    res.writeHead(200, {
      ...pageHeaders,
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      // The page names the current build's files, so it is never cached; the files themselves are.
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : html);
  }

  async function serveAsset(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const manifest = await loadManifest();
    // Only files of the current build are served, by exact name: nothing else under the
    // directory (and no `..`) can be reached.
    if (!Object.hasOwn(manifest.files, name)) {
      sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no such sandbox asset' } });
      return;
    }
    const encoding = negotiateEncoding(req.headers['accept-encoding']);
    const file = encoding === 'br' ? `${name}.br` : encoding === 'gzip' ? `${name}.gz` : name;
    // File names carry a content hash, so the name and encoding identify the bytes exactly.
    const etag = `"${name}.${encoding}"`;
    const headers: Record<string, string> = {
      'content-type': contentTypes[path.extname(name)] ?? 'application/octet-stream',
      'cache-control': 'public, max-age=31536000, immutable',
      etag,
      vary: 'Accept-Encoding',
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'same-origin',
    };
    if (encoding !== 'identity') headers['content-encoding'] = encoding;
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    let body = fileCache.get(file);
    if (body === undefined) {
      body = await fs.readFile(path.join(assetsDir, file));
      fileCache.set(file, body);
    }
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function serveToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A JSON content type forces a CORS preflight on any cross-site request, which this hub never
    // answers; a same-origin check on Origin refuses the rest. Together they keep other web pages
    // from minting tokens through a developer's browser.
    const contentType = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      sendError(res, new AccordError('BAD_USER_INPUT', 'send the persona as application/json'), 415);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let sameOrigin = false;
      try {
        sameOrigin = new URL(origin).host === req.headers.host;
      } catch {
        sameOrigin = false;
      }
      if (!sameOrigin) {
        sendError(res, new AccordError('FORBIDDEN', 'persona tokens are only minted for the sandbox page itself'));
        return;
      }
    }
    let text: string;
    try {
      text = await readBody(req, personaBodyMaxBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendError(res, new AccordError('BAD_USER_INPUT', `the persona is larger than ${personaBodyMaxBytes} bytes`), 413);
        return;
      }
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      sendError(res, new AccordError('BAD_USER_INPUT', 'the body is not valid JSON'));
      return;
    }
    try {
      const persona = parsePersonaRequest(body);
      sendJson(res, 200, await mintPersonaToken(persona, options));
    } catch (error) {
      if (isAccordError(error)) {
        sendError(res, error);
        return;
      }
      throw error;
    }
  }

  return {
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
      const route = url.pathname;
      const method = req.method ?? 'GET';
      const readOnly = method === 'GET' || method === 'HEAD';
      if (route === sandboxPath || route === `${sandboxPath}/`) {
        if (!readOnly) return methodNotAllowed(res, 'GET, HEAD');
        await servePage(req, res);
        return true;
      }
      if (route.startsWith(sandboxAssetsPath)) {
        if (!readOnly) return methodNotAllowed(res, 'GET, HEAD');
        await serveAsset(req, res, route.slice(sandboxAssetsPath.length));
        return true;
      }
      if (route === sandboxTokenPath) {
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        await serveToken(req, res);
        return true;
      }
      return false;
    },
  };
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  res.writeHead(405, { allow, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: `use ${allow}` } }));
  return true;
}
