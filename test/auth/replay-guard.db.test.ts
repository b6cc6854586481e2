import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseReplayGuard, createMemoryReplayGuard } from '../../src/auth/index.js';
import { fixedClock } from '../../src/clock.js';
import { tables, type Database } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe('database replay guard', () => {
  const clock = fixedClock('2026-03-01T12:00:00Z');
  const inFiveMinutes = () => new Date(clock().getTime() + 300_000);
  const statements: string[] = [];
  let database: TestDatabase;
  let other: Database;

  beforeAll(async () => {
    database = await createTestDatabase({ onQuery: (query) => statements.push(query) });
    other = await database.reopen({ onQuery: () => undefined });
  });
  afterAll(async () => {
    if (database.url !== undefined) await other.close();
    await database.close();
  });

  it('accepts a jti once, and refuses it again without a database round trip', async () => {
    const guard = createDatabaseReplayGuard(database.db, clock);
    expect(await guard.claim('westminster', 'jti-1', inFiveMinutes())).toBe(true);
    statements.length = 0;
    expect(await guard.claim('westminster', 'jti-1', inFiveMinutes())).toBe(false);
    expect(statements).toEqual([]);
    // The same jti from another issuer is a different token.
    expect(await guard.claim('camden', 'jti-1', inFiveMinutes())).toBe(true);
  });

  it('refuses a replay across two instances sharing the database', async () => {
    const first = createDatabaseReplayGuard(database.db, clock);
    const second = createDatabaseReplayGuard(other.db, clock);
    expect(await first.claim('westminster', 'jti-2', inFiveMinutes())).toBe(true);
    expect(await second.claim('westminster', 'jti-2', inFiveMinutes())).toBe(false);
  });

  it('lets exactly one of two racing instances win', async () => {
    const guards = [createDatabaseReplayGuard(database.db, clock), createDatabaseReplayGuard(other.db, clock)];
    const results = await Promise.all(guards.map((guard) => guard.claim('westminster', 'jti-race', inFiveMinutes())));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('claims concurrent ids in one statement, and only the first of a repeated id wins', async () => {
    const guard = createDatabaseReplayGuard(database.db, clock);
    expect(await guard.claim('westminster', 'jti-b0', inFiveMinutes())).toBe(true); // claimed earlier
    statements.length = 0;
    const ids = ['jti-b1', 'jti-b2', 'jti-b3', 'jti-b1', 'jti-b0', 'jti-b4'];
    const results = await Promise.all(ids.map((jti) => guard.claim('westminster', jti, inFiveMinutes())));
    expect(results).toEqual([true, true, true, false, false, true]);
    expect(statements.filter((q) => q.includes('token_replays'))).toHaveLength(1);
  });

  it('forgets a jti once its token has expired, and purges expired rows', async () => {
    const guard = createDatabaseReplayGuard(database.db, clock, { purgeIntervalMs: 60_000 });
    expect(await guard.claim('westminster', 'jti-3', inFiveMinutes())).toBe(true);
    clock.advance(301_000);
    // A token with this jti could no longer be accepted: the id may be used again.
    expect(await createDatabaseReplayGuard(other.db, clock).claim('westminster', 'jti-3', inFiveMinutes())).toBe(true);
    clock.advance(301_000);
    expect(await guard.claim('westminster', 'jti-4', inFiveMinutes())).toBe(true); // due for a purge
    const rows = await database.db.select().from(tables.tokenReplays);
    expect(rows.every((row) => row.expiresAt > clock())).toBe(true);
    expect(rows.map((row) => row.jti)).toContain('jti-4');
  });
});

describe('memory replay guard', () => {
  it('accepts once until the expiry', async () => {
    const clock = fixedClock('2026-03-01T12:00:00Z');
    const guard = createMemoryReplayGuard(clock);
    const until = new Date(clock().getTime() + 1000);
    expect(await guard.claim('a', 'j', until)).toBe(true);
    expect(await guard.claim('a', 'j', until)).toBe(false);
    clock.advance(1000);
    expect(await guard.claim('a', 'j', new Date(clock().getTime() + 1000))).toBe(true);
  });
});
