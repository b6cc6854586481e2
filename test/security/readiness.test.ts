/**
 * Finding 4 of the red-team review: during a database outage `/readyz`, which anyone who can reach
 * the port may call, quoted the failure's reason, and with it the driver's message (a database
 * name, a host, SQL). It answers `{ "status": "unavailable" }` and nothing more; the reason goes to
 * the log. The outage is real on PostgreSQL (the database stops accepting connections and the
 * hub's backends are terminated, as test/reliability/outage.db.test.ts does); on PGlite the handle
 * is closed under the hub.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, testBackend } from '../helpers/test-database.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';

describe('security: /readyz during an outage', { timeout: 60_000 }, () => {
  let hub: TestHub;
  let databaseName: string | undefined;
  let admin: ReturnType<typeof postgres> | undefined;

  beforeAll(async () => {
    hub = await startTestHub({ database: await createTestDatabase() });
    expect(await (await fetch(`${hub.url}/readyz`)).json()).toEqual({ status: 'ready' });
    if (testBackend === 'postgres') {
      databaseName = new URL(hub.database.url as string).pathname.slice(1);
      admin = postgres(inject('postgresRun').adminUrl, { max: 1, onnotice: () => undefined });
      await admin.unsafe(`alter database "${databaseName}" with allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${databaseName}`;
    } else {
      await hub.database.close();
    }
  });
  afterAll(async () => {
    if (admin !== undefined && databaseName !== undefined) await admin.unsafe(`alter database "${databaseName}" with allow_connections true`).catch(() => undefined);
    await admin?.end({ timeout: 5 });
    await hub?.stop().catch(() => undefined);
  });

  it('answers 503 with exactly { "status": "unavailable" }: no reason, driver message, database name, host or SQL', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await fetch(`${hub.url}/readyz`);
      const text = await response.text();
      expect(response.status).toBe(503);
      expect(JSON.parse(text)).toEqual({ status: 'unavailable' });
      expect(text).not.toMatch(/reason|postgres|pglite|select|sql|ECONN|127\.0\.0\.1|5432|localhost|terminat|connection|closed|stack/i);
      if (databaseName !== undefined) expect(text).not.toContain(databaseName);
    }
  });
});
