import { createHash } from 'node:crypto';
import http from 'node:http';
import vm from 'node:vm';
import { parse, specifiedRules, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDpoConsoleRoutes, dpoConsoleOperations, dpoContentSecurityPolicy } from '../../src/dpo/index.js';
import { schemaFromSdl } from '../../src/graphql/generate-schema-docs.js';
import { loadSdl } from '../../src/graphql/load-sdl.js';
import { createOperationLimitRules, operationLimitParseOptions } from '../../src/graphql/operation-limits.js';
import { serveRoutes } from '../helpers/serve-routes.js';

let server: http.Server;
let base: string;

beforeAll(async () => {
  ({ server, base } = await serveRoutes(createDpoConsoleRoutes()));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function get(path: string, init: RequestInit = {}) {
  const response = await fetch(base + path, init);
  return { response, text: await response.text() };
}

/** Every URL-ish reference that would leave the hub: absolute or protocol-relative. */
const externalUrl = /(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}|\b(?:src|href|action)\s*=\s*["']?(?:https?:|\/\/)|@import|\burl\(/i;

describe('GET /dpo', () => {
  it('serves the page with a strict CSP and no cache', async () => {
    const { response, text } = await get('/dpo');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(dpoContentSecurityPolicy);
    expect(csp.split('; ')).toEqual(expect.arrayContaining(["default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]));
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:|data:/);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(text).toContain('<title>Accord DPO console</title>');
    expect(text).toContain('<script defer src="/dpo/console.js"></script>');
  });

  it('has no inline script: every script element is the console script or a non-executed JSON block', async () => {
    const { text } = await get('/dpo');
    const scripts = [...text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(3);
    for (const [, attributes, body] of scripts) {
      if (/\bsrc=/.test(attributes ?? '')) expect(body).toBe('');
      else expect(attributes).toMatch(/type="application\/json"/);
    }
    expect(text).not.toMatch(/\son[a-z]+\s*=/i);
    expect(text).not.toMatch(/javascript:/i);
    expect(text).not.toMatch(/\sstyle\s*=/i);
  });

  it("allows its one inline stylesheet by the stylesheet's exact hash", async () => {
    const { response, text } = await get('/dpo');
    const styles = [...text.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256').update(styles[0] ?? '', 'utf8').digest('base64');
    expect(response.headers.get('content-security-policy')).toContain(`style-src 'sha256-${hash}'`);
  });

  it.each(['/dpo', '/dpo/console.js'])('%s refers to nothing outside the hub', async (path) => {
    const { text } = await get(path);
    expect(text).not.toMatch(externalUrl);
  });

  it('offers the demo DPO personas as data, and answers /dpo/ too', async () => {
    const { text } = await get('/dpo/');
    const json = /<script type="application\/json" id="dpo-demo-personas">([\s\S]*?)<\/script>/.exec(text)?.[1] ?? '[]';
    const personas = JSON.parse(json) as { org: string; roles: string[] }[];
    expect(personas.length).toBeGreaterThanOrEqual(2);
    expect(personas.every((p) => p.roles.includes('dpo'))).toBe(true);
    expect(personas.map((p) => p.org)).toContain('hub');
  });

  it('HEAD sends the headers without a body', async () => {
    const { response, text } = await get('/dpo', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(1000);
    expect(text).toBe('');
  });
});

describe('GET /dpo/console.js', () => {
  it('serves the script as JavaScript with the same CSP, revalidated by ETag', async () => {
    const { response, text } = await get('/dpo/console.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(dpoContentSecurityPolicy);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = response.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(() => new vm.Script(text, { filename: 'console.js' })).not.toThrow();
    const again = await get('/dpo/console.js', { headers: { 'if-none-match': etag ?? '' } });
    expect(again.response.status).toBe(304);
    expect(again.text).toBe('');
  });

  it('finds every element it looks up in the page', async () => {
    const [{ text: page }, { text: script }] = await Promise.all([get('/dpo'), get('/dpo/console.js')]);
    const ids = [...new Set([...script.matchAll(/\$\('([a-z0-9-]+)'\)/g)].map((m) => m[1] ?? ''))];
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.filter((id) => !page.includes(`id="${id}"`))).toEqual([]);
  });

  it('never writes markup from data (no innerHTML, insertAdjacentHTML, document.write or eval)', async () => {
    const { text } = await get('/dpo/console.js');
    expect(text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    expect(text).not.toMatch(/localStorage|sessionStorage|document\.cookie/);
  });
});

describe('routing', () => {
  it.each([
    ['POST', '/dpo'],
    ['PUT', '/dpo/console.js'],
    ['DELETE', '/dpo/'],
  ])('%s %s is 405 with Allow', async (method, path) => {
    const { response } = await get(path, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it.each(['/', '/dpo/other', '/dpo/console.js/x', '/dpox', '/graphql', '/sandbox'])('leaves %s to other routes', async (path) => {
    const { response } = await get(path);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-unhandled')).toBe('yes');
  });
});

describe('the operations the console sends', () => {
  const schema = schemaFromSdl(loadSdl());
  it.each(Object.entries(dpoConsoleOperations))('%s is valid against schema/ and within the production operation limits', (_, operation) => {
    const document = parse(operation, operationLimitParseOptions({ production: true }));
    const errors = validate(schema, document, [...specifiedRules, ...createOperationLimitRules({ production: true })]);
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it('the page carries exactly these operations', async () => {
    const { text } = await get('/dpo');
    const json = /<script type="application\/json" id="dpo-operations">([\s\S]*?)<\/script>/.exec(text)?.[1] ?? '{}';
    expect(JSON.parse(json)).toEqual(dpoConsoleOperations);
  });
});
