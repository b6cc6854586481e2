import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrganisationDirectory, createOrganisationKeyStore, generateSigningKey, registerOrganisation } from '../../src/auth/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe('organisation directory', () => {
  const statements: string[] = [];
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ onQuery: (query) => statements.push(query) });
  });
  afterAll(async () => {
    await database.close();
  });

  const register = async (id: string, kind: 'COUNCIL' | 'POLICE') =>
    registerOrganisation(database.db, { id, name: `Name of ${id}`, kind, jwks: (await generateSigningKey({ alg: 'EdDSA', kid: `${id}-1` })).publicJwks });

  it('lists names and kinds, and reloads only when the organisations generation moves', async () => {
    await register('westminster', 'COUNCIL');
    const keys = createOrganisationKeyStore(database.db);
    const directory = createOrganisationDirectory(database.db, keys);
    await keys.refresh();
    expect(await directory.list()).toEqual([{ id: 'westminster', name: 'Name of westminster', kind: 'COUNCIL' }]);

    statements.length = 0;
    expect(await directory.get('westminster')).toEqual({ id: 'westminster', name: 'Name of westminster', kind: 'COUNCIL' });
    expect(await directory.get('nobody')).toBeUndefined();
    expect(statements).toEqual([]);

    await register('met-police', 'POLICE');
    expect(await directory.get('met-police')).toBeUndefined(); // until the next request's refresh
    await keys.refresh();
    expect((await directory.list()).map((org) => org.id)).toEqual(['met-police', 'westminster']);
    expect((await directory.get('met-police'))?.kind).toBe('POLICE');
  });
});
