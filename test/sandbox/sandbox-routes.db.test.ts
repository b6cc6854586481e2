import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseReplayGuard, createOrganisationKeyStore, generateSigningKey, registerOrganisation, verifyToken } from '../../src/auth/index.js';
import { fixedClock } from '../../src/clock.js';
import { createSandboxRoutes, type SandboxManifest, type SandboxRoutesOptions } from '../../src/sandbox/index.js';
import { writeDemoKey } from '../../src/sandbox/demo-keys.js';
import { serveRoutes } from '../helpers/serve-routes.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const clock = fixedClock('2026-03-02T09:00:00Z');
const hubId = 'accord-test-hub';
let database: TestDatabase;
let dataDir: string;
let assetsDir: string;
const servers: http.Server[] = [];

const script = 'sandbox-ABC123.js';
const scriptText = 'console.log("sandbox");'.repeat(50);
const manifest: SandboxManifest = {
  fingerprint: 'test',
  script,
  stylesheet: 'sandbox-DEF456.css',
  workers: { editor: 'editor.worker-1.js', json: 'json.worker-2.js', graphql: 'graphql.worker-3.js' },
  files: { [script]: { raw: scriptText.length, gzip: 0, brotli: 0 } },
};

/** A real HTTP server around the routes; anything they do not handle is a 404 marked as such. */
async function serve(options: Partial<SandboxRoutesOptions> = {}): Promise<string> {
  const routes = createSandboxRoutes({ mode: 'demo', dataDir, db: database.db, hubId, clock, assetsDir, loadManifest: async () => manifest, ...options });
  const { server, base } = await serveRoutes(routes);
  servers.push(server);
  return base;
}

let demoUrl: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'accord-sandbox-'));
  assetsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'accord-assets-'));
  await fs.writeFile(path.join(assetsDir, script), scriptText);
  await fs.writeFile(path.join(assetsDir, `${script}.gz`), zlib.gzipSync(scriptText));
  await fs.writeFile(path.join(assetsDir, `${script}.br`), zlib.brotliCompressSync(scriptText));
  // A demo organisation with its key in the data directory; a demo id registered without one
  // (someone registered "met-police" by hand); and an ordinary organisation.
  for (const [id, kind, keepKey] of [
    ['westminster', 'COUNCIL', true],
    ['met-police', 'POLICE', false],
    ['my-council', 'COUNCIL', false],
  ] as const) {
    const key = await generateSigningKey({ alg: 'EdDSA', kid: `${id}-k1` });
    await registerOrganisation(database.db, { id, name: id, kind, jwks: key.publicJwks }, clock);
    if (keepKey) await writeDemoKey(dataDir, id, key.privateJwk);
  }
  demoUrl = await serve();
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await database?.close();
  for (const dir of [dataDir, assetsDir]) if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
});

async function mint(body: unknown, init: { headers?: Record<string, string>; raw?: string } = {}) {
  const response = await fetch(`${demoUrl}/sandbox/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as { token?: string; expiresAt?: string; error?: { code: string; message: string } } };
}

const persona = {
  org: 'westminster',
  sub: 'sam@westminster.example',
  roles: ['social-worker'],
  purpose: 'safeguarding-children',
  caseRef: 'WCC-1',
  breakGlassReason: 'Child missing overnight, urgent welfare check',
};

describe('POST /sandbox/token', () => {
  it('mints a two-minute token for a demo organisation that the hub verifies like any other', async () => {
    const { status, body } = await mint(persona);
    expect(status).toBe(200);
    expect(body.expiresAt).toBe('2026-03-02T09:02:00.000Z');
    const caller = await verifyToken(body.token ?? '', { keys: createOrganisationKeyStore(database.db), hubId, clock, replay: createDatabaseReplayGuard(database.db, clock) });
    expect(caller).toMatchObject({
      org: 'westminster',
      sub: persona.sub,
      roles: ['social-worker'],
      purpose: 'safeguarding-children',
      caseRef: 'WCC-1',
      breakGlass: { reason: persona.breakGlassReason },
      kid: 'westminster-k1',
    });
  });

  it('mints a new token (new jti) every time: each is single-use', async () => {
    const [a, b] = await Promise.all([mint(persona), mint(persona)]);
    expect(a.body.token).not.toBe(b.body.token);
  });

  it.each([
    ['an organisation that is not in the demo partnership', 'my-council'],
    ['a demo organisation id whose key is not in the data directory', 'met-police'],
    ['a demo organisation that is not registered', 'hammersmith-fulham'],
  ])('refuses %s with FORBIDDEN and no token', async (_what, org) => {
    const { status, body, text } = await mint({ ...persona, org });
    expect(status).toBe(403);
    expect(body.error?.code).toBe('FORBIDDEN');
    expect(text).not.toContain('token"');
  });

  it.each([
    ['a JSON array', [persona]],
    ['no org', { ...persona, org: undefined }],
    ['no purpose', { ...persona, purpose: '' }],
    ['a purpose with spaces', { ...persona, purpose: 'safe guarding' }],
    ['roles that are not a list', { ...persona, roles: 'social-worker' }],
    ['a role that is not a code', { ...persona, roles: ['social worker'] }],
    ['a break-glass reason under 20 characters', { ...persona, breakGlassReason: 'too short' }],
    ['an unknown field', { ...persona, admin: true }],
    ['a sub over 200 characters', { ...persona, sub: 'x'.repeat(201) }],
  ])('refuses %s with BAD_USER_INPUT', async (_what, body) => {
    const result = await mint(body);
    expect(result.status).toBe(400);
    expect(result.body.error?.code).toBe('BAD_USER_INPUT');
    expect(result.body.token).toBeUndefined();
  });

  it('refuses a body that is not JSON', async () => {
    const result = await mint(undefined, { raw: '{org:' });
    expect([result.status, result.body.error?.code]).toEqual([400, 'BAD_USER_INPUT']);
  });

  it('refuses a body over the size limit with 413', async () => {
    const result = await mint({ ...persona, caseRef: 'x'.repeat(5000) });
    expect([result.status, result.body.error?.code]).toEqual([413, 'BAD_USER_INPUT']);
  });

  it('refuses a form post (no JSON content type): a cross-site page could send one without a preflight', async () => {
    const result = await mint(persona, { headers: { 'content-type': 'text/plain' } });
    expect(result.status).toBe(415);
  });

  it('refuses a request from another origin', async () => {
    const result = await mint(persona, { headers: { origin: 'https://evil.example' } });
    expect([result.status, result.body.error?.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('accepts GET only as 405', async () => {
    const response = await fetch(`${demoUrl}/sandbox/token`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});

describe('GET /sandbox', () => {
  it('serves the persona picker under a CSP that allows scripts from the hub only', async () => {
    const response = await fetch(`${demoUrl}/sandbox`);
    const html = await response.text();
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|unsafe-eval/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    for (const id of ['persona-preset', 'persona-org', 'persona-sub', 'persona-roles', 'persona-purpose', 'persona-case-ref', 'persona-break-glass', 'persona-apply', 'persona-status', 'graphiql']) {
      expect(html).toContain(`data-testid="${id}"`);
    }
    expect(html).toContain(`<script defer src="/sandbox/assets/${script}"></script>`);
    // The only inline script element is JSON data, which the browser never executes.
    expect(html.match(/<script(?![^>]*(src=|type="application\/json"))/g)).toBeNull();
    const config = JSON.parse(/<script type="application\/json" id="sandbox-config">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}');
    expect(config.personas[0].id).toBe('westminster-social-worker');
    expect(config.workers.graphql).toBe('/sandbox/assets/graphql.worker-3.js');
    expect(config.examples).toHaveLength(5);
  });
});

describe('GET /sandbox/assets/*', () => {
  it.each([
    ['br, gzip', 'br', zlib.brotliDecompressSync],
    ['gzip, deflate', 'gzip', zlib.gunzipSync],
    ['identity', null, (b: Buffer) => b],
    ['br;q=0, gzip;q=0.5', 'gzip', zlib.gunzipSync],
  ] as const)('serves Accept-Encoding "%s" as %s, cached for a year', async (accept, encoding, decode) => {
    const response = await new Promise<http.IncomingMessage & { body: Buffer }>((resolve, reject) => {
      http
        .get(`${demoUrl}/sandbox/assets/${script}`, { headers: { 'accept-encoding': accept } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Object.assign(res, { body: Buffer.concat(chunks) })));
        })
        .on('error', reject);
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe(encoding ?? undefined);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers.vary).toBe('Accept-Encoding');
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(decode(response.body).toString('utf8')).toBe(scriptText);
  });

  it('answers a matching If-None-Match with 304 and no body', async () => {
    const first = await fetch(`${demoUrl}/sandbox/assets/${script}`, { headers: { 'accept-encoding': 'gzip' } });
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^".+"$/);
    const second = await fetch(`${demoUrl}/sandbox/assets/${script}`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': etag } });
    expect(second.status).toBe(304);
    expect(await second.text()).toBe('');
  });

  it.each(['nope.js', '..%2Fmanifest.json', `${script}.br`, '../sandbox-routes.ts'])('serves nothing but the build\'s own files (%s: 404)', async (name) => {
    const response = await fetch(`${demoUrl}/sandbox/assets/${name}`);
    expect(response.status).toBe(404);
  });
});

describe('routing', () => {
  it('leaves other paths to the rest of the hub', async () => {
    const response = await fetch(`${demoUrl}/graphql`);
    expect(response.headers.get('x-unhandled')).toBe('yes');
  });

  it.each([
    ['GET', '/sandbox'],
    ['GET', `/sandbox/assets/${script}`],
    ['POST', '/sandbox/token'],
  ])('does not exist in production mode: %s %s is not handled', async (method, route) => {
    const productionUrl = await serve({ mode: 'production' });
    const response = await fetch(`${productionUrl}${route}`, {
      method,
      ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(persona) } : {}),
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-unhandled')).toBe('yes');
    expect(await response.text()).toBe('');
  });
});
