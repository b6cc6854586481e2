import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateSigningKey,
  getOrganisation,
  listOrganisations,
  registerOrganisation,
  replaceOrganisationKeys,
  type PublicJwks,
  type SigningKey,
} from '../../src/auth/index.js';
import { fixedClock } from '../../src/clock.js';
import { tables } from '../../src/db/index.js';
import { AccordError, InputError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

async function failure(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AccordError);
  expect((error as AccordError).code).toBe('BAD_USER_INPUT');
  return error as InputError;
}

describe('organisations', () => {
  const clock = fixedClock('2026-02-01T09:00:00Z');
  let database: TestDatabase;
  let key: SigningKey;
  let jwks: PublicJwks;

  const generation = async () =>
    (await database.db.select().from(tables.hubState).where(eq(tables.hubState.key, 'organisations')))[0]?.generation;

  beforeAll(async () => {
    database = await createTestDatabase();
    key = await generateSigningKey({ alg: 'EdDSA', kid: 'wcc-1' });
    jwks = key.publicJwks;
  });
  afterAll(async () => {
    await database.close();
  });

  it('registers an organisation with its keys and bumps the organisations generation', async () => {
    const before = await generation();
    const org = await registerOrganisation(database.db, { id: 'westminster', name: ' Westminster City Council ', kind: 'COUNCIL', jwks }, clock);
    expect(org).toMatchObject({ id: 'westminster', name: 'Westminster City Council', kind: 'COUNCIL', createdAt: clock() });
    expect(org.keys).toEqual([{ kid: 'wcc-1', jwk: jwks.keys[0], addedAt: clock(), retiredAt: undefined }]);
    expect(await generation()).toBe((before ?? 0) + 1);
    expect(await getOrganisation(database.db, 'westminster')).toEqual(org);
    expect((await listOrganisations(database.db)).map((o) => o.id)).toContain('westminster');
    expect(await getOrganisation(database.db, 'nobody')).toBeUndefined();
  });

  const invalid: [string, Record<string, unknown>, string, RegExp][] = [
    ['an upper-case id', { id: 'Westminster' }, 'id', /lower-case letters, digits or hyphens/],
    ['a one-character id', { id: 'w' }, 'id', /2-63/],
    ['an id starting with a hyphen', { id: '-wcc' }, 'id', /starting with a letter or digit/],
    ['a 64-character id', { id: 'a'.repeat(64) }, 'id', /2-63/],
    ['an id that is not a string', { id: 42 }, 'id', /2-63/],
    ['an empty name', { name: '   ' }, 'name', /non-empty string/],
    ['a name too long', { name: 'n'.repeat(201) }, 'name', /at most 200/],
    ['an unknown kind', { kind: 'CHARITY' }, 'kind', /one of COUNCIL, NHS_TRUST, POLICE, SCHOOL, OTHER/],
    ['a lower-case kind', { kind: 'council' }, 'kind', /one of/],
    ['no key set', { jwks: undefined }, 'jwks', /must be a JSON Web Key Set/],
    ['a private key', { jwks: 'private' }, 'jwks.keys[0]', /a private key must never be uploaded/],
    ['a key without kid', { jwks: 'no-kid' }, 'jwks.keys[0].kid', /is required/],
  ];

  it.each(invalid)('refuses %s, storing nothing', async (_name, override, path, reason) => {
    const input: Record<string, unknown> = { id: 'camden', name: 'Camden', kind: 'COUNCIL', jwks, ...override };
    if (override.jwks === 'private') input.jwks = { keys: [key.privateJwk] };
    if (override.jwks === 'no-kid') input.jwks = { keys: [{ ...jwks.keys[0], kid: undefined }] };
    const before = await generation();
    const error = await failure(registerOrganisation(database.db, input as never, clock));
    expect(error.problems).toContainEqual({ path, reason: expect.stringMatching(reason) });
    expect(error.message).toMatch(/^invalid organisation: /);
    expect(await getOrganisation(database.db, 'camden')).toBeUndefined();
    expect(await generation()).toBe(before);
  });

  it('reports every problem at once', async () => {
    const error = await failure(registerOrganisation(database.db, { id: 'X', name: '', kind: 'PARISH', jwks: { keys: [] } }));
    expect(error.problems.map((p) => p.path)).toEqual(['id', 'name', 'kind', 'jwks.keys']);
  });

  it('refuses an id that is already registered', async () => {
    const error = await failure(registerOrganisation(database.db, { id: 'westminster', name: 'Again', kind: 'OTHER', jwks }));
    expect(error.problems).toEqual([{ path: 'id', reason: 'an organisation with id "westminster" is already registered' }]);
    expect((await getOrganisation(database.db, 'westminster'))?.name).toBe('Westminster City Council');
  });

  it('replaces a key set: old keys are retired, never deleted, and the generation moves', async () => {
    const { publicJwks: next } = await generateSigningKey({ alg: 'ES256', kid: 'wcc-2' });
    const before = await generation();
    clock.advance(60_000);
    const org = await replaceOrganisationKeys(database.db, 'westminster', next, clock);
    expect(org.keys.map((k) => [k.kid, k.retiredAt?.toISOString()])).toEqual([
      ['wcc-2', undefined],
      ['wcc-1', clock().toISOString()],
    ]);
    expect(await generation()).toBe((before ?? 0) + 1);

    // Bringing back the retired key (same kid, same material) re-activates it.
    const both = await replaceOrganisationKeys(database.db, 'westminster', { keys: [...next.keys, ...jwks.keys] }, clock);
    expect(both.keys.filter((k) => k.retiredAt === undefined).map((k) => k.kid).sort()).toEqual(['wcc-1', 'wcc-2']);
  });

  it('refuses to reuse a kid for different key material', async () => {
    const { publicJwks: imposter } = await generateSigningKey({ alg: 'EdDSA', kid: 'wcc-1' });
    const error = await failure(replaceOrganisationKeys(database.db, 'westminster', imposter, clock));
    expect(error.problems).toEqual([{ path: 'jwks.keys[0].kid', reason: expect.stringMatching(/"wcc-1" already names a different key/) }]);
    const stored = await getOrganisation(database.db, 'westminster');
    expect(stored?.keys.find((k) => k.kid === 'wcc-1')?.jwk).toEqual(jwks.keys[0]);
  });

  it('refuses keys for an organisation that is not registered', async () => {
    const error = await failure(replaceOrganisationKeys(database.db, 'nobody', jwks, clock));
    expect(error.message).toBe('organisation "nobody" is not registered');
  });

  it('refuses an invalid replacement set without touching the current keys', async () => {
    const before = await getOrganisation(database.db, 'westminster');
    const error = await failure(replaceOrganisationKeys(database.db, 'westminster', { keys: [key.privateJwk] }, clock));
    expect(error.problems[0]?.reason).toMatch(/a private key must never be uploaded/);
    expect(await getOrganisation(database.db, 'westminster')).toEqual(before);
  });
});
