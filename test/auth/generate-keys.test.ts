import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compactVerify, CompactSign, importJWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSigningKey, signingAlgorithms, validatePublicJwks, writeKeyFiles } from '../../src/auth/index.js';
import { AccordError, InputError } from '../../src/errors.js';

describe('generateSigningKey', () => {
  it.each(signingAlgorithms)('makes a %s key pair whose public half registers and verifies its signatures', async (alg) => {
    const { privateJwk, publicJwks } = await generateSigningKey({ alg, kid: `k-${alg}` });
    expect(privateJwk).toMatchObject({ kid: `k-${alg}`, alg, use: 'sig', d: expect.any(String) });
    expect(publicJwks.keys).toHaveLength(1);
    expect(publicJwks.keys[0]).toMatchObject({ kid: `k-${alg}`, alg, use: 'sig' });
    expect(publicJwks.keys[0]).not.toHaveProperty('d');
    expect((await validatePublicJwks(publicJwks)).problems).toEqual([]);

    const jws = await new CompactSign(new TextEncoder().encode('hello')).setProtectedHeader({ alg }).sign(await importJWK(privateJwk, alg));
    const { payload } = await compactVerify(jws, await importJWK(publicJwks.keys[0] ?? {}, alg));
    expect(new TextDecoder().decode(payload)).toBe('hello');
  });

  it.each([
    ['HS256', 'k', 'alg', /must be one of EdDSA, ES256, ES384, PS256, RS256/],
    ['none', 'k', 'alg', /must be one of/],
    ['EdDSA', '../escape', 'kid', /letters, digits, dots, underscores or hyphens/],
    ['EdDSA', '', 'kid', /letters, digits/],
  ])('refuses alg %s kid "%s"', async (alg, kid, pathName, reason) => {
    const error = await generateSigningKey({ alg, kid }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('BAD_USER_INPUT');
    expect((error as InputError).problems).toContainEqual({ path: pathName, reason: expect.stringMatching(reason) });
  });
});

describe('writeKeyFiles', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-keys-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the private JWK readable by its owner only, and the public JWKS', async () => {
    const key = await generateSigningKey({ alg: 'ES256', kid: 'camden-2026' });
    const files = await writeKeyFiles(path.join(dir, 'keys'), key);
    expect(files).toEqual({
      privateKeyFile: path.join(dir, 'keys', 'camden-2026.private.jwk.json'),
      publicJwksFile: path.join(dir, 'keys', 'camden-2026.jwks.json'),
    });
    expect(fs.statSync(files.privateKeyFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(files.privateKeyFile, 'utf8'))).toEqual(key.privateJwk);
    expect(JSON.parse(fs.readFileSync(files.publicJwksFile, 'utf8'))).toEqual(key.publicJwks);
  });

  it('never overwrites an existing key', async () => {
    const key = await generateSigningKey({ alg: 'EdDSA', kid: 'camden-2026' });
    const before = fs.readFileSync(path.join(dir, 'keys', 'camden-2026.private.jwk.json'), 'utf8');
    const error = await writeKeyFiles(path.join(dir, 'keys'), key).catch((e: unknown) => e);
    expect((error as AccordError).code).toBe('BAD_USER_INPUT');
    expect((error as AccordError).message).toMatch(/camden-2026\.private\.jwk\.json already exists/);
    expect(fs.readFileSync(path.join(dir, 'keys', 'camden-2026.private.jwk.json'), 'utf8')).toBe(before);
  });
});
