/**
 * Bad tokens never reach GraphQL. Every forged token below claims to come from the records'
 * owner (whose own token would see every canary), so a token wrongly accepted shows up as a leak
 * as well as a wrong status.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/auth/index.js';
import { signRaw, testHubId } from '../helpers/keys.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { child, everythingQuery, expectRefused, setUpPartnership, type Partnership } from './fixtures.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('security corpus: caller tokens', () => {
  let hub: TestHub;
  let p: Partnership;
  /** An attacker's own Ed25519 key: the owner's algorithm, never registered. */
  let attackerJwk: JWK;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub, { agreement: false });
    attackerJwk = (await generateSigningKey({ alg: 'EdDSA', kid: p.kc.kid })).privateJwk;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  /** Valid claims of the owner's own caller: what every forgery starts from. */
  const ownerClaims = (): Record<string, unknown> => ({
    iss: 'kensington-chelsea',
    sub: 'user@kensington-chelsea',
    aud: testHubId,
    iat: now(),
    exp: now() + 300,
    jti: randomUUID(),
    purpose: 'safeguarding-children',
    roles: ['social-worker'],
  });
  /** Claims changed at signing time (times are computed then, not when the table is built). */
  const withClaims = (changes: Record<string, unknown> | ((t: number) => Record<string, unknown>)) => async () =>
    await signRaw(p.kc.privateJwk, { ...ownerClaims(), ...(typeof changes === 'function' ? changes(now()) : changes) });

  it('accepts the owner\'s genuine token, which sees every canary (the control for this table)', async () => {
    const response = await hub.gql(await signRaw(p.kc.privateJwk, ownerClaims()), everythingQuery, { n: child });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.text).toContain(p.canary);
  });

  const cases: [string, () => Promise<string | undefined>, RegExp][] = [
    ['no Authorization header', async () => undefined, /Authorization: Bearer/],
    ['alg none (unsigned)', async () => `${b64({ alg: 'none', kid: p.kc.kid, typ: 'JWT' })}.${b64(ownerClaims())}.`, /algorithm "none" is not accepted/],
    [
      'HMAC confusion: HS256 keyed with the registered public JWK',
      async () => await new SignJWT(ownerClaims()).setProtectedHeader({ alg: 'HS256', kid: p.kc.kid, typ: 'JWT' }).sign(new TextEncoder().encode(JSON.stringify(p.kc.publicJwks.keys[0]))),
      /algorithm "HS256" is not accepted/,
    ],
    [
      'HMAC confusion: HS256 keyed with the raw public key bytes',
      async () => await new SignJWT(ownerClaims()).setProtectedHeader({ alg: 'HS256', kid: p.kc.kid, typ: 'JWT' }).sign(Buffer.from(String(p.kc.publicJwks.keys[0]?.x), 'base64url')),
      /algorithm "HS256" is not accepted/,
    ],
    ['a payload altered after signing (purpose changed)', async () => {
      const [header, , signature] = (await signRaw(p.kc.privateJwk, ownerClaims())).split('.');
      return `${header}.${b64({ ...ownerClaims(), purpose: 'anything' })}.${signature}`;
    }, /signature does not verify/],
    ['expired (beyond the 30 s skew)', withClaims((t) => ({ iat: t - 400, exp: t - 100 })), /expired/],
    ['not valid yet (nbf in the future)', withClaims((t) => ({ nbf: t + 120 })), /not valid yet/],
    ['issued in the future (iat beyond the skew)', withClaims((t) => ({ iat: t + 120, exp: t + 200 })), /issued in the future/],
    ['an over-long lifetime (301 s)', withClaims((t) => ({ iat: t, exp: t + 301 })), /lifetime .* exceeds 300 seconds/],
    ['exp before iat', withClaims((t) => ({ iat: t, exp: t - 1 })), /expired|exp <= iat/],
    ['the wrong audience', withClaims({ aud: 'another-hub' }), /audience/],
    ['an unknown kid', async () => await signRaw(p.kc.privateJwk, ownerClaims(), { kid: 'kensington-chelsea-key-9' }), /no active key with this kid/],
    ['no kid in the header', async () => await signRaw(p.kc.privateJwk, ownerClaims(), { kid: undefined }), /no kid/],
    ['another organisation\'s key under the owner\'s kid', async () => await signRaw(p.camden.privateJwk, ownerClaims(), { kid: p.kc.kid }), /no active key with this kid for ES384/],
    ['the wrong issuer key: an unregistered key of the owner\'s algorithm under the owner\'s kid', async () => await signRaw(attackerJwk, ownerClaims(), { kid: p.kc.kid }), /signature does not verify/],
    ['an issuer that is not registered', withClaims({ iss: 'not-registered' }), /issuer .* not a registered organisation/],
    ...(['iss', 'sub', 'aud', 'iat', 'exp', 'jti', 'purpose', 'roles'] as const).map(
      (claim): [string, () => Promise<string>, RegExp] => [`no ${claim} claim`, withClaims({ [claim]: undefined }), new RegExp(`no ${claim} claim`)],
    ),
    ['roles that are not an array', withClaims({ roles: 'social-worker' }), /roles claim must be an array/],
    ['an empty jti', withClaims({ jti: '' }), /jti claim must be a non-empty string/],
    ['an oversized token (> 8192 bytes)', withClaims({ padding: 'x'.repeat(9000) }), /larger than 8192 bytes/],
    ['a break-glass reason under 20 characters', withClaims({ break_glass: { reason: 'nineteen characters' } }), /break_glass reason must be at least 20 characters/],
    ['a break-glass reason of 20 spaces', withClaims({ break_glass: { reason: ' '.repeat(25) } }), /break_glass reason must be at least 20 characters/],
    ['a break-glass claim that is not an object', withClaims({ break_glass: true }), /break_glass claim must be an object/],
    ['not a JWS at all', async () => 'not.a-token', /malformed/],
    ['a JWE-shaped token (five parts)', async () => 'a.b.c.d.e', /malformed/],
  ];

  it.each(cases)('refuses %s with 401 UNAUTHENTICATED and no data', async (_name, make, message) => {
    const token = await make();
    const response = await hub.gql(token, everythingQuery, { n: child });
    expectRefused(response, 401, 'UNAUTHENTICATED', p.canary, message);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // The message never reflects the token back (it could carry attacker-chosen text).
    if (token !== undefined) expect(response.text).not.toContain(token.slice(0, 40));
  });

  it('refuses a replayed token: the first use answers, the second is 401 with no data', async () => {
    const token = await signRaw(p.kc.privateJwk, ownerClaims());
    const first = await hub.gql(token, everythingQuery, { n: child });
    expect(first.status).toBe(200);
    expect(first.text).toContain(p.canary);
    expectRefused(await hub.gql(token, everythingQuery, { n: child }), 401, 'UNAUTHENTICATED', p.canary, /already been used/);
  });

  it('does not let a refused forgery use up the genuine token\'s jti', async () => {
    const claims = ownerClaims();
    const forged = await signRaw(attackerJwk, claims, { kid: p.kc.kid });
    expectRefused(await hub.gql(forged, everythingQuery, { n: child }), 401, 'UNAUTHENTICATED', p.canary, /signature/);
    const genuine = await hub.gql(await signRaw(p.kc.privateJwk, claims), everythingQuery, { n: child });
    expect(genuine.status).toBe(200);
    expect(genuine.body.errors).toBeUndefined();
  });
});
