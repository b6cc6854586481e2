/**
 * Finding 4 of the red-team review: during a database outage `/readyz`, which anyone who can reach
 * the port may call, quoted the failure's reason, and with it the driver's message (a database
 * name, a host, SQL). It answers `{ "status": "unavailable" }` and nothing more; the reason goes to
 * the log. The outage is real on PostgreSQL (the database stops accepting connections and the
 * hub's backends are terminated, as test/reliability/outage.db.test.ts does); on PGlite the handle
 * is closed under the hub.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutOffDatabase, type DatabaseOutage } from '../helpers/database-outage.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';

describe('security: /readyz during an outage', { timeout: 60_000 }, () => {
  let hub: TestHub;
  let databaseName: string | undefined;
  let outage: DatabaseOutage | undefined;

  beforeAll(async () => {
    hub = await startTestHub({ database: await createTestDatabase() });
    expect(await (await fetch(`${hub.url}/readyz`)).json()).toEqual({ status: 'ready' });
    outage = await cutOffDatabase(hub);
    databaseName = outage.databaseName;
  });
  afterAll(async () => {
    await outage?.end();
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
