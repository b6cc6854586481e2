import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditWriter, GENESIS_HASH, hashEvent, verifyChain, type StoredAuditEvent } from '../../src/audit/index.js';
import { fixedClock } from '../../src/clock.js';
import { rowsOf, type Database } from '../../src/db/index.js';
import { AccordError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { oneTo, readEvent, seqs } from './helpers.js';

const clock = fixedClock('2026-03-01T09:30:00.000Z');

describe('audit writer', () => {
  let database: TestDatabase;
  let commits = 0;
  beforeAll(async () => {
    database = await createTestDatabase({
      onQuery: (query) => {
        if (query.includes('accord_commit')) commits += 1;
      },
    });
  });
  afterAll(async () => {
    await database.close();
  });

  it('chains events from the genesis hash, each resolving after its commit', async () => {
    const committed: [number, string, number][] = [];
    const writer = createAuditWriter(database.db, { clock, onCommitted: (...args) => committed.push(args) });
    const [first] = await writer.append([readEvent(1)]);
    const [second, third] = await writer.append([readEvent(2), readEvent(3, { action: 'DENY', outcome: 'DENIED', records: [{ recordType: 'Demographics', recordId: null, fields: [], withheld: [], agreements: [] }] })]);
    await writer.close();
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, at: clock(), requestId: 'req-1' });
    expect(first?.hash).toBe(hashEvent(GENESIS_HASH, first as StoredAuditEvent));
    expect(second).toMatchObject({ seq: 2, prevHash: first?.hash });
    expect(third).toMatchObject({ seq: 3, prevHash: second?.hash, action: 'DENY' });
    expect(committed).toEqual([[1, first?.hash, 1], [3, third?.hash, 2]]);
    // What was stored is what was returned.
    const [row] = rowsOf<{ hash: string; actor_user: string }>(await database.db.execute(sql`select hash, actor_user from audit_events where seq = 3`));
    expect(row).toEqual({ hash: third?.hash, actor_user: 'worker-3' });
    expect((await verifyChain(database.db)).intact).toBe(true);
  });

  it('groups concurrent appends into few transactions and keeps the chain gapless and in order', async () => {
    const writer = createAuditWriter(database.db, { clock });
    const before = (await seqs(database.db)).length;
    commits = 0;
    const results = await Promise.all(oneTo(200).map((n) => writer.append([readEvent(n), readEvent(n)])));
    await writer.close();
    // One statement per batch (plus, for a new writer, one that learns the chain head).
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThanOrEqual(3);
    // Each append got consecutive seqs, and appends are written in the order they were made.
    results.forEach((events, i) => {
      expect(events.map((e) => e.seq)).toEqual([before + 2 * i + 1, before + 2 * i + 2]);
      expect(events[0]?.requestId).toBe(`req-${i + 1}`);
    });
    expect(await seqs(database.db)).toEqual(oneTo(before + 400));
    expect((await verifyChain(database.db)).intact).toBe(true);
  });

  it('splits a large backlog into batches of at most maxBatch events, never splitting an append', async () => {
    const writer = createAuditWriter(database.db, { clock, maxBatch: 10 });
    const counts: number[] = [];
    const w2 = createAuditWriter(database.db, { clock, maxBatch: 10, onCommitted: (_s, _h, count) => counts.push(count) });
    await Promise.all([...oneTo(7).map((n) => w2.append([readEvent(n), readEvent(n), readEvent(n)])), w2.append(oneTo(12).map((n) => readEvent(n)))]);
    await Promise.all([writer.close(), w2.close()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(33);
    expect(counts.filter((c) => c > 10)).toEqual([12]);
    expect((await verifyChain(database.db)).intact).toBe(true);
  });

  it('fails every waiter of a batch with AUDIT_UNAVAILABLE when the commit fails, writes nothing, and recovers', async () => {
    const errors: unknown[] = [];
    const writer = createAuditWriter(database.db, { clock, onError: (e) => errors.push(e) });
    const before = await seqs(database.db);
    await database.db.execute(sql`create function audit_test_fail() returns trigger language plpgsql as $$ begin raise exception 'disk full (test)'; end $$`);
    await database.db.execute(sql`create trigger audit_test_fail before insert on audit_events for each row execute function audit_test_fail()`);
    try {
      const outcomes = await Promise.allSettled(oneTo(20).map((n) => writer.append([readEvent(n)])));
      expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
      for (const outcome of outcomes) {
        const reason = (outcome as PromiseRejectedResult).reason as AccordError;
        expect(reason).toBeInstanceOf(AccordError);
        expect(reason.code).toBe('AUDIT_UNAVAILABLE');
        expect(reason.message).toBe('the audit trail could not be written; nothing was released');
      }
      expect(errors.length).toBeGreaterThan(0);
      expect(await seqs(database.db)).toEqual(before);
    } finally {
      await database.db.execute(sql`drop trigger audit_test_fail on audit_events`);
      await database.db.execute(sql`drop function audit_test_fail()`);
    }
    const [next] = await writer.append([readEvent(99)]);
    expect(next?.seq).toBe(before.length + 1);
    await writer.close();
    expect((await verifyChain(database.db)).intact).toBe(true);
  });

  it('rejects a malformed event without failing the others, and refuses appends after close', async () => {
    const writer = createAuditWriter(database.db, { clock });
    const [bad, good] = await Promise.allSettled([writer.append([readEvent(1, { action: 'PEEK' as never })]), writer.append([readEvent(2)])]);
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(TypeError);
    expect(good.status).toBe('fulfilled');
    await expect(writer.append([])).resolves.toEqual([]);
    await writer.close();
    await expect(writer.append([readEvent(3)])).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  });
});

describe('two hub instances on one database', () => {
  let database: TestDatabase;
  let second: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
    second = await database.reopen();
  });
  afterAll(async () => {
    if (second !== database) await second.close();
    await database.close();
  });

  it('keep one gapless chain under concurrent load, which verifies', async () => {
    const a = createAuditWriter(database.db, { clock });
    const b = createAuditWriter(second.db, { clock });
    const producer = async (writer: ReturnType<typeof createAuditWriter>, p: number) => {
      for (let r = 0; r < 15; r += 1) await writer.append(oneTo(4).map((n) => readEvent(p * 1000 + r * 10 + n)));
    };
    await Promise.all([...oneTo(10).map((p) => producer(a, p)), ...oneTo(10).map((p) => producer(b, 100 + p))]);
    await Promise.all([a.close(), b.close()]);
    expect(await seqs(database.db)).toEqual(oneTo(2 * 10 * 15 * 4));
    const result = await verifyChain(database.db);
    expect(result).toMatchObject({ intact: true, checked: 1200, headSeq: 1200 });
  });
});
