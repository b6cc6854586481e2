import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, signCallerToken, type SignCallerTokenOptions, type SigningKey } from '../../src/auth/index.js';
import { fixedClock } from '../../src/clock.js';
import { InputError } from '../../src/errors.js';

const withoutAlg = ({ alg: _alg, ...rest }: JWK): JWK => rest;

describe('signCallerToken', () => {
  const clock = fixedClock('2026-03-01T12:00:00Z');
  let key: SigningKey;
  let base: SignCallerTokenOptions;

  beforeAll(async () => {
    key = await generateSigningKey({ alg: 'ES384', kid: 'wcc-1' });
    base = { org: 'westminster', privateJwk: key.privateJwk, sub: 'jo.bloggs', purpose: 'safeguarding-children', roles: ['social-worker'], hubId: 'accord-hub', clock };
  });

  it('signs the CONTRACT §2 claims with the kid and alg of the key', async () => {
    const token = await signCallerToken({ ...base, ttlSeconds: 60, caseRef: 'C-9', breakGlass: '  Child at immediate risk tonight  ' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES384', kid: 'wcc-1', typ: 'JWT' });
    const publicKey = await importJWK(key.publicJwks.keys[0] ?? {}, 'ES384');
    const { payload } = await jwtVerify(token, publicKey, { currentDate: clock(), audience: 'accord-hub', issuer: 'westminster' });
    const iat = Date.parse('2026-03-01T12:00:00Z') / 1000;
    expect(payload).toEqual({
      iss: 'westminster', sub: 'jo.bloggs', aud: 'accord-hub', iat, exp: iat + 60, jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      purpose: 'safeguarding-children', roles: ['social-worker'], case_ref: 'C-9', break_glass: { reason: 'Child at immediate risk tonight' },
    });
  });

  it('infers the algorithm from the key type when the JWK has no alg', async () => {
    const rsa = await generateSigningKey({ alg: 'RS256', kid: 'r' });
    const ed = await generateSigningKey({ alg: 'EdDSA', kid: 'e' });
    expect(decodeProtectedHeader(await signCallerToken({ ...base, privateJwk: withoutAlg(rsa.privateJwk) })).alg).toBe('RS256');
    expect(decodeProtectedHeader(await signCallerToken({ ...base, privateJwk: withoutAlg(ed.privateJwk) })).alg).toBe('EdDSA');
  });

  it('gives every token a fresh jti', async () => {
    const [a, b] = await Promise.all([signCallerToken(base), signCallerToken(base)]);
    expect(a).not.toBe(b);
  });

  it.each<[string, () => Partial<SignCallerTokenOptions>, string, RegExp]>([
    ['a public key', () => ({ privateJwk: key.publicJwks.keys[0] ?? {} }), 'key', /is not a private key/],
    ['a key without kid', () => ({ privateJwk: { ...key.privateJwk, kid: undefined } }), 'key.kid', /is required/],
    ['an HMAC key', () => ({ privateJwk: { kty: 'oct', k: 'c2VjcmV0', kid: 'h' } }), 'key', /cannot sign with any accepted algorithm/],
    ['a ttl over 300 s', () => ({ ttlSeconds: 301 }), 'ttl', /from 1 to 300/],
    ['a zero ttl', () => ({ ttlSeconds: 0 }), 'ttl', /from 1 to 300/],
    ['an empty purpose', () => ({ purpose: ' ' }), 'purpose', /is required/],
    ['an empty sub', () => ({ sub: '' }), 'sub', /is required/],
    ['an empty role', () => ({ roles: ['dpo', ''] }), 'roles', /empty role/],
    ['a short break-glass reason', () => ({ breakGlass: 'urgent' }), 'breakGlass', /at least 20 characters/],
  ])('refuses %s', async (_name, override, pathName, reason) => {
    const error = await signCallerToken({ ...base, ...override() } as SignCallerTokenOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toContainEqual({ path: pathName, reason: expect.stringMatching(reason) });
  });
});
