import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrganisationKeyStore, generateSigningKey, registerOrganisation, replaceOrganisationKeys } from '../../src/auth/index.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe('organisation key store', () => {
  const statements: string[] = [];
  let database: TestDatabase;
  /** A second connection pool (PostgreSQL) standing for the CLI or another hub instance. */
  let elsewhere: Database;

  beforeAll(async () => {
    database = await createTestDatabase({ onQuery: (query) => statements.push(query) });
    elsewhere = await database.reopen({ onQuery: () => undefined });
    const { publicJwks } = await generateSigningKey({ alg: 'ES256', kid: 'nhs-1' });
    await registerOrganisation(elsewhere.db, { id: 'nhs-nwl', name: 'NHS North West London', kind: 'NHS_TRUST', jwks: publicJwks });
  });
  afterAll(async () => {
    if (database.url !== undefined) await elsewhere.close();
    await database.close();
  });

  async function counting<T>(run: () => Promise<T>): Promise<{ result: T; count: number }> {
    statements.length = 0;
    const result = await run();
    return { result, count: statements.length };
  }

  it('loads on first use, then answers lookups from memory', async () => {
    const keys = createOrganisationKeyStore(database.db);
    expect(keys.generation).toBeUndefined();
    const first = await counting(() => keys.getKey('nhs-nwl', 'nhs-1'));
    expect(first.result?.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(first.count).toBe(3); // generation, organisations, keys
    expect(keys.generation).toBeGreaterThan(0);

    const again = await counting(async () => [
      await keys.getKey('nhs-nwl', 'nhs-1'),
      await keys.getKey('nhs-nwl', 'no-such-kid'),
      await keys.getKey('no-such-org', 'nhs-1'),
      await keys.hasOrganisation('nhs-nwl'),
      await keys.hasOrganisation('no-such-org'),
    ]);
    expect(again.count).toBe(0);
    expect(again.result).toEqual([first.result, undefined, undefined, true, false]);
    expect(again.result[0]).toBe(first.result); // the imported key is cached, not re-imported
  });

  it('costs one small query per refresh while nothing changes, even when refreshes overlap', async () => {
    const keys = createOrganisationKeyStore(database.db);
    await keys.refresh();
    const { count } = await counting(() => Promise.all([keys.refresh(), keys.refresh(), keys.refresh()]));
    expect(count).toBe(1);
    expect(statements[0]).toMatch(/hub_state/);
  });

  it('sees an organisation registered and keys rotated elsewhere after its next refresh', async () => {
    const keys = createOrganisationKeyStore(database.db);
    await keys.refresh();
    const { publicJwks } = await generateSigningKey({ alg: 'EdDSA', kid: 'sch-1' });
    await registerOrganisation(elsewhere.db, { id: 'st-marys', name: "St Mary's School", kind: 'SCHOOL', jwks: publicJwks });
    expect(await keys.hasOrganisation('st-marys')).toBe(false); // not before a refresh
    await keys.refresh();
    expect(await keys.hasOrganisation('st-marys')).toBe(true);
    expect(await keys.getKey('st-marys', 'sch-1')).toBeDefined();

    const { publicJwks: next } = await generateSigningKey({ alg: 'PS256', kid: 'sch-2' });
    await replaceOrganisationKeys(elsewhere.db, 'st-marys', next);
    await keys.refresh();
    expect(await keys.getKey('st-marys', 'sch-1')).toBeUndefined();
    expect(await keys.getKey('st-marys', 'sch-1', { includeRetired: true })).toBeDefined();
    expect((await keys.getKey('st-marys', 'sch-2'))?.algorithm.name).toBe('RSA-PSS');
  });

  it('returns a key only for an algorithm it can serve', async () => {
    const { publicJwks } = await generateSigningKey({ alg: 'RS256', kid: 'met-1' });
    const rsa = publicJwks.keys[0];
    await registerOrganisation(elsewhere.db, { id: 'met-police', name: 'Met', kind: 'POLICE', jwks: { keys: [{ ...rsa, alg: undefined, kid: 'met-any' }, rsa] } });
    const keys = createOrganisationKeyStore(database.db);
    expect((await keys.getKey('met-police', 'met-any', { alg: 'PS256' }))?.algorithm.name).toBe('RSA-PSS');
    expect((await keys.getKey('met-police', 'met-any', { alg: 'RS256' }))?.algorithm.name).toBe('RSASSA-PKCS1-v1_5');
    expect(await keys.getKey('met-police', 'met-1', { alg: 'PS256' })).toBeUndefined(); // pinned to RS256 by its alg
    expect(await keys.getKey('met-police', 'met-1', { alg: 'EdDSA' })).toBeUndefined();
  });
});
