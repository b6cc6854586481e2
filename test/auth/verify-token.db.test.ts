import { randomUUID } from 'node:crypto';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clockSkewSeconds,
  createDatabaseReplayGuard,
  createOrganisationKeyStore,
  generateSigningKey,
  replaceOrganisationKeys,
  signCallerToken,
  tokenClaimOf,
  verifyToken,
  type OrganisationKeyStore,
  type SigningAlgorithm,
  type VerifyTokenOptions,
} from '../../src/auth/index.js';
import { fixedClock } from '../../src/clock.js';
import { AccordError } from '../../src/errors.js';
import { makeOrg, testHubId, type TestOrg } from '../helpers/keys.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const start = '2026-03-01T12:00:00.000Z';
const nowSeconds = Date.parse(start) / 1000;

describe('verifyToken', () => {
  const clock = fixedClock(start);
  let database: TestDatabase;
  let keys: OrganisationKeyStore;
  let options: VerifyTokenOptions;
  let westminster: TestOrg;
  let police: TestOrg;
  let camden: TestOrg;

  beforeAll(async () => {
    database = await createTestDatabase();
    westminster = await makeOrg(database.db, 'westminster', { clock });
    police = await makeOrg(database.db, 'met-police', { kind: 'POLICE', alg: 'ES256', clock });
    camden = await makeOrg(database.db, 'camden', { kid: 'key-1', clock });
    await makeOrg(database.db, 'islington', { kid: 'key-1', clock });
    keys = createOrganisationKeyStore(database.db);
    options = { keys, hubId: testHubId, clock, replay: createDatabaseReplayGuard(database.db, clock) };
  });
  afterAll(async () => {
    await database.close();
  });

  async function rejection(token: string, opts: VerifyTokenOptions = options): Promise<AccordError> {
    await keys.refresh();
    const error = await verifyToken(token, opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AccordError);
    return error as AccordError;
  }

  it('accepts a valid token and returns the caller', async () => {
    const caller = await verifyToken(await westminster.token({ case_ref: 'CASE-1', roles: ['social-worker', 'dpo'] }), options);
    expect(caller).toMatchObject({
      org: 'westminster',
      sub: 'user@westminster',
      roles: ['social-worker', 'dpo'],
      purpose: 'safeguarding-children',
      caseRef: 'CASE-1',
      breakGlass: undefined,
      kid: 'westminster-key-1',
      issuedAt: new Date(start),
      expiresAt: new Date(Date.parse(start) + 300_000),
    });
    expect(caller.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts a break-glass claim with a reason of 20+ characters', async () => {
    const caller = await verifyToken(await westminster.token({ break_glass: { reason: 'Child missing overnight, police request' } }), options);
    expect(caller.breakGlass).toEqual({ reason: 'Child missing overnight, police request' });
  });

  it.each<SigningAlgorithm>(['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256'])('accepts tokens signed with %s', async (alg) => {
    const org = await makeOrg(database.db, `org-${alg.toLowerCase()}`, { alg, clock });
    await keys.refresh();
    const caller = await verifyToken(await org.token(), options);
    expect(caller.org).toBe(org.id);
  });

  it('accepts an iat within the 30 s skew and an exp passed by less than 30 s', async () => {
    await expect(verifyToken(await westminster.token({ iat: nowSeconds + 25, exp: nowSeconds + 300 }), options)).resolves.toMatchObject({ org: 'westminster' });
    await expect(verifyToken(await westminster.token({ iat: nowSeconds - 310, exp: nowSeconds - 20 }), options)).resolves.toMatchObject({ org: 'westminster' });
  });

  it('accepts tokens minted by signCallerToken', async () => {
    const token = await signCallerToken({
      org: 'met-police', privateJwk: police.privateJwk, sub: 'pc-1234', purpose: 'safeguarding-children', roles: ['mash-officer'],
      caseRef: 'MASH-77', breakGlass: 'Immediate risk of harm to a child', hubId: testHubId, clock, ttlSeconds: 120,
    });
    const caller = await verifyToken(token, options);
    expect(caller).toMatchObject({ org: 'met-police', sub: 'pc-1234', roles: ['mash-officer'], caseRef: 'MASH-77', breakGlass: { reason: 'Immediate risk of harm to a child' } });
    expect(caller.expiresAt.getTime() - caller.issuedAt.getTime()).toBe(120_000);
  });

  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const claimsFor = (org: TestOrg, more: Record<string, unknown> = {}) => ({
    iss: org.id, sub: 'u', aud: testHubId, iat: nowSeconds, exp: nowSeconds + 300, jti: randomUUID(), purpose: 'p', roles: ['r'], ...more,
  });

  const badTokens: [string, () => Promise<string>, RegExp][] = [
    ['alg none (unsigned)', async () => `${encode({ alg: 'none', kid: westminster.kid })}.${encode(claimsFor(westminster))}.`, /algorithm "none" is not accepted/],
    [
      'HS256 signed with the public key as secret (algorithm confusion)',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(westminster.publicJwks.keys[0]));
        return await new SignJWT(claimsFor(westminster)).setProtectedHeader({ alg: 'HS256', kid: westminster.kid }).sign(secret);
      },
      /algorithm "HS256" is not accepted/,
    ],
    ['RS512 (asymmetric but not on the list)', async () => `${encode({ alg: 'RS512', kid: westminster.kid })}.${encode(claimsFor(westminster))}.c2ln`, /algorithm "RS512" is not accepted/],
    ['missing alg', async () => `${encode({ kid: westminster.kid })}.${encode(claimsFor(westminster))}.c2ln`, /algorithm is not accepted/],
    ['unknown kid', () => westminster.token({}, { header: { kid: 'no-such-key' } }), /organisation "westminster" has no active key with this kid/],
    ['missing kid', () => westminster.token({}, { header: { kid: undefined } }), /header has no kid/],
    ['alg in the header the key cannot serve', async () => `${encode({ alg: 'ES256', kid: westminster.kid })}.${encode(claimsFor(westminster))}.c2ln`, /no active key with this kid for ES256/],
    ["signed by org A's key, iss B (A's kid)", () => westminster.token({ iss: 'met-police' }), /organisation "met-police" has no active key with this kid/],
    // camden and islington both name their key "key-1": only the signature tells them apart.
    ["signed by org A's key, iss B, with a kid B also uses", () => camden.token({ iss: 'islington' }), /signature does not verify/],
    ['unknown iss', () => westminster.token({ iss: 'no-such-org' }), /issuer \(iss\) is not a registered organisation/],
    ['missing iss', () => westminster.token({ iss: undefined }), /token has no iss claim/],
    ['payload altered after signing', async () => {
      const [h, , s] = (await westminster.token()).split('.');
      return `${h}.${encode(claimsFor(westminster, { roles: ['hub-admin'] }))}.${s}`;
    }, /signature does not verify/],
    ['wrong aud', () => westminster.token({ aud: 'another-hub' }), /audience \(aud\) is not this hub/],
    ['missing aud', () => westminster.token({ aud: undefined }), /token has no aud claim/],
    ['expired (beyond skew)', () => westminster.token({ iat: nowSeconds - 300, exp: nowSeconds - 31 }), /token has expired/],
    ['iat in the future beyond skew', () => westminster.token({ iat: nowSeconds + 31, exp: nowSeconds + 200 }), /issued in the future/],
    ['nbf in the future', () => westminster.token({ nbf: nowSeconds + 120 }), /not valid yet/],
    ['lifetime 301 s', () => westminster.token({ iat: nowSeconds, exp: nowSeconds + 301 }), /lifetime \(exp - iat\) exceeds 300 seconds/],
    ['exp before iat', () => westminster.token({ iat: nowSeconds, exp: nowSeconds - 1 }), /token has expired|expires before it was issued/],
    ['iat not a number', () => westminster.token({ iat: 'yesterday' }), /iat claim must be a number/],
    ['missing jti', () => westminster.token({ jti: undefined }), /token has no jti claim/],
    ['jti too long', () => westminster.token({ jti: 'x'.repeat(201) }), /jti claim must be a non-empty string of at most 200/],
    ['missing purpose', () => westminster.token({ purpose: undefined }), /token has no purpose claim/],
    ['empty purpose', () => westminster.token({ purpose: '  ' }), /purpose claim must be a non-empty string/],
    ['missing roles', () => westminster.token({ roles: undefined }), /token has no roles claim/],
    ['roles not an array', () => westminster.token({ roles: 'social-worker' }), /roles claim must be an array/],
    ['roles with a non-string', () => westminster.token({ roles: ['dpo', 7] }), /roles claim must be an array of at most 50 non-empty strings/],
    ['missing sub', () => westminster.token({ sub: undefined }), /token has no sub claim/],
    ['missing iat', () => westminster.token({ iat: undefined }), /token has no iat claim/],
    ['missing exp', () => westminster.token({ exp: undefined }), /token has no exp claim/],
    ['case_ref not a string', () => westminster.token({ case_ref: 42 }), /case_ref claim must be a non-empty string/],
    ['break_glass reason too short', () => westminster.token({ break_glass: { reason: 'urgent' } }), /break_glass reason must be at least 20 characters/],
    ['break_glass not an object', () => westminster.token({ break_glass: 'a reason that is long enough' }), /break_glass claim must be an object/],
    ['oversized token', () => westminster.token({ padding: 'x'.repeat(9000) }), /larger than 8192 bytes/],
    ['malformed string', async () => 'not-a-jwt', /malformed: expected a compact JWS/],
    ['header not JSON', async () => `${base64url.encode('{oops')}.${encode(claimsFor(westminster))}.c2ln`, /header is not base64url-encoded JSON/],
    ['empty string', async () => '', /no token given/],
  ];

  it.each(badTokens)('refuses %s', async (_name, make, message) => {
    const token = await make();
    const error = await rejection(token);
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(message);
    // The message names the problem; it never repeats the token.
    if (token.length > 20) expect(error.message).not.toContain(token.slice(-20));
  });

  // The claim itself is made by the request's group commit (test/audit/request-commit.db.test.ts
  // and test/security/replay-across-instances.test.ts); verifyToken refuses, from memory, an id
  // this instance has seen claimed.
  it('refuses a token whose jti this instance has seen claimed, and a refused token claims nothing', async () => {
    const jti = randomUUID();
    const wrongAudience = await westminster.token({ jti, aud: 'elsewhere' });
    expect((await rejection(wrongAudience)).code).toBe('UNAUTHENTICATED');
    const token = await westminster.token({ jti });
    const caller = await verifyToken(token, options);
    expect(caller).toMatchObject({ jti });
    options.replay.remember(tokenClaimOf(caller, clockSkewSeconds));
    const error = await rejection(token);
    expect(error.message).toMatch(/already been used/);
    // Same jti in a freshly signed token is still a replay.
    expect((await rejection(await westminster.token({ jti }))).message).toMatch(/already been used/);
    // The same jti from another issuer is a different token.
    await expect(verifyToken(await (await makeOrg(database.db, 'camden-replay', { clock })).token({ jti }), { ...options, keys: createOrganisationKeyStore(database.db) })).resolves.toMatchObject({ jti });
  });

  it('refuses a token signed with a retired key once the key set is replaced', async () => {
    const org = await makeOrg(database.db, 'kensington-chelsea', { clock });
    const oldToken = await org.token();
    const next = await generateSigningKey({ alg: 'ES384', kid: 'kc-2026' });
    await replaceOrganisationKeys(database.db, org.id, next.publicJwks, clock);
    await keys.refresh();
    const error = await rejection(oldToken);
    expect(error.message).toMatch(/organisation "kensington-chelsea" has no active key with this kid/);
    const fresh = await signCallerToken({ org: org.id, privateJwk: next.privateJwk, sub: 's', purpose: 'p', roles: [], hubId: testHubId, clock });
    await expect(verifyToken(fresh, options)).resolves.toMatchObject({ org: org.id, kid: 'kc-2026', roles: [] });
    // The retired key still verifies signatures from the past (agreements) when asked for explicitly.
    await expect(keys.getKey(org.id, org.kid)).resolves.toBeUndefined();
    await expect(keys.getKey(org.id, org.kid, { includeRetired: true })).resolves.toBeDefined();
  });
});
