import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, validatePublicJwks, type PublicJwk } from '../../src/auth/index.js';

describe('validatePublicJwks', () => {
  let ed: PublicJwk;
  let ec: PublicJwk;
  let rsa: PublicJwk;
  let edPrivate: Record<string, unknown>;
  let rsaPrivate: Record<string, unknown>;
  let rsa1024: Record<string, unknown>;
  let p521: Record<string, unknown>;

  beforeAll(async () => {
    const edKey = await generateSigningKey({ alg: 'EdDSA', kid: 'ed-1' });
    ed = edKey.publicJwks.keys[0] as PublicJwk;
    edPrivate = edKey.privateJwk;
    ec = (await generateSigningKey({ alg: 'ES256', kid: 'ec-1' })).publicJwks.keys[0] as PublicJwk;
    const rsaKey = await generateSigningKey({ alg: 'RS256', kid: 'rsa-1' });
    rsa = rsaKey.publicJwks.keys[0] as PublicJwk;
    rsaPrivate = rsaKey.privateJwk;
    // jose refuses to make a key this weak, so node:crypto makes it.
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    rsa1024 = { ...small.publicKey.export({ format: 'jwk' }), kid: 'small' };
    const big = await generateKeyPair('ES512', { extractable: true });
    p521 = { ...(await exportJWK(big.publicKey)), kid: 'p521' };
  });

  it('accepts a set of EdDSA, EC and RSA public keys, with or without alg', async () => {
    const { jwks, problems } = await validatePublicJwks({ keys: [ed, ec, { ...rsa, alg: undefined }] });
    expect(problems).toEqual([]);
    expect(jwks?.keys.map((key) => key.kid)).toEqual(['ed-1', 'ec-1', 'rsa-1']);
  });

  const cases: [string, () => unknown, string, RegExp][] = [
    ['not an object', () => 'keys', 'jwks', /must be a JSON Web Key Set/],
    ['a single JWK instead of a set', () => ed, 'jwks', /is a single JWK: a JSON Web Key Set wraps it/],
    ['a private JWK file instead of a set', () => edPrivate, 'jwks', /is a private key: a private key must never be uploaded/],
    ['keys not an array', () => ({ keys: ed }), 'jwks', /must be a JSON Web Key Set/],
    ['no keys', () => ({ keys: [] }), 'jwks.keys', /at least one key/],
    ['too many keys', () => ({ keys: Array.from({ length: 21 }, (_, i) => ({ ...ed, kid: `k${i}` })) }), 'jwks.keys', /at most 20 keys/],
    ['a key that is not an object', () => ({ keys: ['ed'] }), 'jwks.keys[0]', /must be a JWK object/],
    ['missing kid', () => ({ keys: [{ ...ed, kid: undefined }] }), 'jwks.keys[0].kid', /is required/],
    ['empty kid', () => ({ keys: [{ ...ed, kid: ' ' }] }), 'jwks.keys[0].kid', /is required/],
    ['kid with a control character', () => ({ keys: [{ ...ed, kid: 'a\nb' }] }), 'jwks.keys[0].kid', /printable/],
    ['duplicate kid', () => ({ keys: [ed, { ...ec, kid: 'ed-1' }] }), 'jwks.keys[1].kid', /duplicates the kid "ed-1"/],
    ['an Ed25519 private key', () => ({ keys: [edPrivate] }), 'jwks.keys[0]', /private key material \(d\): a private key must never be uploaded/],
    ['an RSA private key', () => ({ keys: [rsaPrivate] }), 'jwks.keys[0]', /private key material \(d, p, q, dp, dq, qi\)/],
    ['a symmetric key', () => ({ keys: [{ kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }] }), 'jwks.keys[0].kty', /symmetric \(oct\) keys are refused/],
    ['an unsupported curve (P-521)', () => ({ keys: [p521] }), 'jwks.keys[0]', /cannot be used with any accepted algorithm/],
    ['an X25519 (encryption) key', () => ({ keys: [{ kty: 'OKP', crv: 'X25519', x: ed.x, kid: 'x' }] }), 'jwks.keys[0]', /cannot be used with any accepted algorithm/],
    ['an alg the key type cannot serve', () => ({ keys: [{ ...ec, alg: 'RS256' }] }), 'jwks.keys[0]', /with alg "RS256" cannot be used/],
    ['an HMAC alg on an EC key', () => ({ keys: [{ ...ec, alg: 'HS256' }] }), 'jwks.keys[0]', /cannot be used with any accepted algorithm/],
    ['a 1024-bit RSA key', () => ({ keys: [rsa1024] }), 'jwks.keys[0].n', /at least 2048 bits/],
    ['use "enc"', () => ({ keys: [{ ...ed, use: 'enc' }] }), 'jwks.keys[0].use', /must be "sig"/],
    ['key_ops without verify', () => ({ keys: [{ ...ed, key_ops: ['encrypt'] }] }), 'jwks.keys[0].key_ops', /must include "verify"/],
    ['coordinates that are not a point', () => ({ keys: [{ ...ec, y: ec.x }] }), 'jwks.keys[0]', /not a valid public key/],
  ];

  it.each(cases)('refuses %s', async (_name, input, path, reason) => {
    const { jwks, problems } = await validatePublicJwks(input());
    expect(jwks).toBeUndefined();
    expect(problems).toContainEqual({ path, reason: expect.stringMatching(reason) });
  });

  it('reports every problem of every key at once', async () => {
    const { problems } = await validatePublicJwks({ keys: [{ ...ed, kid: undefined }, edPrivate, { ...ec, use: 'enc' }] });
    expect(problems.map((p) => p.path)).toEqual(['jwks.keys[0].kid', 'jwks.keys[1]', 'jwks.keys[2].use']);
  });
});
