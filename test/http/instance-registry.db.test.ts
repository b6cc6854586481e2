import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { tables, type Database } from '../../src/db/index.js';
import { createInstanceRegistry } from '../../src/http/instance-registry.js';
import { createRateLimiter } from '../../src/http/rate-limiter.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

describe('instance registry', () => {
  let database: TestDatabase;
  let second: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    // On PostgreSQL a second connection pool, as a second hub process would have.
    second = await database.reopen({ maxConnections: 2 });
  });
  afterAll(async () => {
    if (second !== database) await second.close();
    await database.close();
  });
  beforeEach(async () => {
    await database.db.delete(tables.hubInstances);
  });

  const heartbeatMs = 1_000;

  it('counts two instances on one database, and one again after the other stops', async () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const a = createInstanceRegistry(database.db, { clock, heartbeatMs, instanceId: 'a' });
    const b = createInstanceRegistry(second.db, { clock, heartbeatMs, instanceId: 'b' });
    await a.start();
    expect(a.count()).toBe(1);
    await b.start();
    expect(b.count()).toBe(2);
    expect(await a.heartbeat()).toBe(2);
    expect(a.count()).toBe(2);

    await b.stop();
    const rows = await database.db.select().from(tables.hubInstances);
    expect(rows.map((r) => r.id)).toEqual(['a']);
    expect(await a.heartbeat()).toBe(1);
    await a.stop();
    expect(await database.db.select().from(tables.hubInstances)).toEqual([]);
  });

  it('stops counting an instance that missed three heartbeats (crashed without stop)', async () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const a = createInstanceRegistry(database.db, { clock, heartbeatMs, instanceId: 'a' });
    const crashed = createInstanceRegistry(second.db, { clock, heartbeatMs, instanceId: 'crashed' });
    await crashed.heartbeat();
    clock.advance(3 * heartbeatMs - 1);
    expect(await a.heartbeat()).toBe(2);
    clock.advance(1);
    expect(await a.heartbeat()).toBe(1);
  });

  it('keeps started_at and moves last_seen_at on every heartbeat', async () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const a = createInstanceRegistry(database.db, { clock, heartbeatMs, instanceId: 'a' });
    await a.heartbeat();
    clock.advance(5_000);
    await a.heartbeat();
    expect(await database.db.select().from(tables.hubInstances)).toEqual([
      { id: 'a', startedAt: new Date('2026-11-23T10:00:00Z'), lastSeenAt: new Date('2026-11-23T10:00:05Z') },
    ]);
  });

  it('feeds the rate limiter: two instances each allow half the burst', async () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const a = createInstanceRegistry(database.db, { clock, heartbeatMs, instanceId: 'a' });
    const b = createInstanceRegistry(second.db, { clock, heartbeatMs, instanceId: 'b' });
    await a.heartbeat();
    await b.heartbeat();
    await a.heartbeat();
    const limiter = createRateLimiter({ defaultPerSecond: 10, defaultBurst: 10, clock, instanceCount: a.count });
    const allowed = Array.from({ length: 10 }, () => limiter.take('westminster')).filter((d) => d.allowed).length;
    expect(allowed).toBe(5);
  });

  it('beats on its own timer once started', async () => {
    const a = createInstanceRegistry(database.db, { heartbeatMs: 20, instanceId: 'a' });
    const b = createInstanceRegistry(second.db, { heartbeatMs: 20, instanceId: 'b' });
    await a.start();
    await b.start();
    await expect.poll(() => a.count(), { timeout: 5_000, interval: 20 }).toBe(2);
    await b.stop();
    await expect.poll(() => a.count(), { timeout: 5_000, interval: 20 }).toBe(1);
    await a.stop();
  });

  it.each([[0], [5], [1.5]])('refuses heartbeatMs %s', (ms) => {
    expect(() => createInstanceRegistry(database.db, { heartbeatMs: ms })).toThrow(
      new TypeError('heartbeatMs must be a whole number of at least 10'),
    );
  });
});
