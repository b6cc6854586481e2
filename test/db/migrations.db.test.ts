import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseErrorOf, rowsOf, tables } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe('migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('are applied and ready() confirms it', async () => {
    await expect(database.ready()).resolves.toBeUndefined();
    await database.migrate(); // idempotent
    const rows = rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from organisations`));
    expect(rows[0]?.n).toBe(0);
  });

  it('make the audit table refuse UPDATE, DELETE and TRUNCATE', async () => {
    const { db } = database;
    const hash = '0'.repeat(64);
    await db.insert(tables.auditEvents).values({
      seq: 1, id: '00000000-0000-4000-8000-000000000001', at: new Date(), requestId: 'r', actorRoles: [],
      action: 'ADMIN', fields: [], agreements: [], outcome: 'SUCCESS', prevHash: hash, hash,
    });
    for (const statement of [sql`update audit_events set outcome = 'DENIED'`, sql`delete from audit_events`, sql`truncate audit_events`]) {
      const error = await db.execute(statement).then(() => undefined, (e: unknown) => e);
      expect(databaseErrorOf(error)?.message).toMatch(/audit_events is append-only: (UPDATE|DELETE|TRUNCATE) refused/);
      expect(databaseErrorOf(error)?.code).toBe('42501');
    }
    const rows = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from audit_events`));
    expect(rows[0]?.n).toBe(1);
  });
});
