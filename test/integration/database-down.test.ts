/**
 * A database that goes away: /readyz says 503, requests get an error (never data, never a
 * crash), /healthz still answers because the process is up.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeOrg, type TestOrg } from '../helpers/keys.js';
import { createTestDatabase, testBackend } from '../helpers/test-database.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';

describe('when the database is unavailable', () => {
  let hub: TestHub;
  let org: TestOrg;

  beforeAll(async () => {
    hub = await startTestHub({ database: await createTestDatabase() });
    org = await makeOrg(hub.database.db, 'westminster');
    expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
    // Mint before the outage: minting needs no database, but the key is registered now.
    if (testBackend === 'postgres') {
      // Cut the hub's connections for real and refuse new ones to this database.
      const name = new URL(hub.database.url as string).pathname.slice(1);
      const admin = postgres(inject('postgresRun').adminUrl, { max: 1, onnotice: () => undefined });
      await admin.unsafe(`alter database "${name}" with allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
      await admin.end({ timeout: 5 });
    } else {
      await hub.database.close();
    }
  });
  afterAll(async () => {
    await hub?.stop().catch(() => undefined);
  });

  it('reports not ready, while /healthz still answers', async () => {
    const ready = await fetch(`${hub.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('unavailable');
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
  });

  it('answers a GraphQL request with an error and no data, and keeps serving', async () => {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await hub.gql(await org.token(), '{ subject(nhsNumber: "9990000018") { demographics { givenName } } }');
      expect(response.status).toBeGreaterThanOrEqual(500);
      expect(response.body.data ?? null).toBeNull();
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(response.text).not.toMatch(/at .*\.ts:\d+|stack/i);
    }
  });
});
