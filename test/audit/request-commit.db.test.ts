/**
 * The request group commit (issue 11): one statement per batch claims each request's token id,
 * checks the generations it was decided under and appends its events. Runs on PGlite and, with
 * DATABASE_URL, on PostgreSQL, with two writers on two connections standing for two hub instances.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditWriter, verifyChain, type AuditWriter, type DecisionGenerations, type TokenClaim } from '../../src/audit/index.js';
import { createDatabaseReplayGuard } from '../../src/auth/index.js';
import { fixedClock } from '../../src/clock.js';
import { rowsOf, tables, type Database, type Db } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { oneTo, readEvent } from './helpers.js';

const clock = fixedClock('2026-03-01T09:30:00.000Z');
const inFiveMinutes = (): Date => new Date(clock().getTime() + 300_000);

function claim(jti: string, iss = 'westminster', until = inFiveMinutes()): TokenClaim {
  return { iss, jti, until };
}

async function generations(db: Db): Promise<DecisionGenerations> {
  const rows = rowsOf<{ key: string; generation: number }>(await db.execute(sql`select key, generation::float8 as generation from hub_state`));
  const of = (key: string): number => rows.find((r) => r.key === key)?.generation ?? 0;
  return { agreements: of('agreements'), organisations: of('organisations') };
}

async function eventsOfRequest(db: Db, requestId: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from audit_events where request_id = ${requestId}`));
  return Number(row?.n ?? 0);
}

describe('request group commit', () => {
  let database: TestDatabase;
  let other: Database;
  let a: AuditWriter;
  let b: AuditWriter;
  const statements: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ onQuery: (query) => statements.push(query) });
    other = await database.reopen({ onQuery: () => undefined });
    a = createAuditWriter(database.db, { clock });
    b = createAuditWriter(other.db, { clock });
    // Both learn the chain head once.
    await a.append([readEvent(0)]);
    await b.append([readEvent(0)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    expect((await verifyChain(database.db)).intact).toBe(true);
    if (database.url !== undefined) await other.close();
    await database.close();
  });

  it('commits a token id once: the replay gets nothing written, on the same or another instance', async () => {
    const first = await a.commit({ events: [readEvent(1, { requestId: 'once-1' })], claim: claim('jti-once') });
    expect(first.status).toBe('committed');
    expect(await a.commit({ events: [readEvent(2, { requestId: 'once-2' })], claim: claim('jti-once') })).toEqual({ status: 'replayed' });
    expect(await b.commit({ events: [readEvent(3, { requestId: 'once-3' })], claim: claim('jti-once') })).toEqual({ status: 'replayed' });
    expect(await eventsOfRequest(database.db, 'once-1')).toBe(1);
    expect(await eventsOfRequest(database.db, 'once-2')).toBe(0);
    expect(await eventsOfRequest(database.db, 'once-3')).toBe(0);
    // The same jti from another issuer is a different token.
    expect((await b.commit({ events: [], claim: claim('jti-once', 'camden') })).status).toBe('committed');
  });

  it('lets exactly one of two racing instances win a token id', async () => {
    for (const n of oneTo(10)) {
      const results = await Promise.all([
        a.commit({ events: [readEvent(n, { requestId: `race-a-${n}` })], claim: claim(`jti-race-${n}`) }),
        b.commit({ events: [readEvent(n, { requestId: `race-b-${n}` })], claim: claim(`jti-race-${n}`) }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['committed', 'replayed']);
      expect((await eventsOfRequest(database.db, `race-a-${n}`)) + (await eventsOfRequest(database.db, `race-b-${n}`))).toBe(1);
    }
  });

  it('commits concurrent requests in one statement; a repeated or used id is refused without holding back the rest', async () => {
    await a.commit({ events: [], claim: claim('jti-b0') });
    statements.length = 0;
    const ids = ['jti-b1', 'jti-b2', 'jti-b3', 'jti-b1', 'jti-b0', 'jti-b4'];
    const results = await Promise.all(ids.map((jti, i) => a.commit({ events: [readEvent(i, { requestId: `batch-${i}` })], claim: claim(jti) })));
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed', 'committed', 'replayed', 'replayed', 'committed']);
    // The batch went out, learnt jti-b0 was used, and went out again without it: two statements,
    // whereas a batch with nothing to refuse takes one (the next test).
    expect(statements.filter((q) => q.includes('accord_commit'))).toHaveLength(2);
    expect(statements.filter((q) => !q.includes('accord_commit'))).toEqual([]);
    for (const i of [0, 1, 2, 5]) expect(await eventsOfRequest(database.db, `batch-${i}`)).toBe(1);
    for (const i of [3, 4]) expect(await eventsOfRequest(database.db, `batch-${i}`)).toBe(0);
  });

  it('takes one statement for a batch of requests with fresh generations and unused token ids', async () => {
    const current = await generations(database.db);
    statements.length = 0;
    const results = await Promise.all(
      oneTo(50).map((n) => a.commit({ events: [readEvent(n, { requestId: `one-${n}` })], claim: claim(`jti-one-${n}`), generations: current })),
    );
    expect(results.every((r) => r.status === 'committed')).toBe(true);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('accord_commit');
  });

  it('answers stale when agreements or keys changed since the request was decided, writing and claiming nothing', async () => {
    const before = await generations(database.db);
    await other.db.update(tables.hubState).set({ generation: sql`${tables.hubState.generation} + 1` }).where(sql`${tables.hubState.key} = 'agreements'`);
    const after = await generations(database.db);
    expect(after.agreements).toBe(before.agreements + 1);
    const [stale, fresh] = await Promise.all([
      a.commit({ events: [readEvent(1, { requestId: 'stale-1' })], claim: claim('jti-stale'), generations: before }),
      a.commit({ events: [readEvent(2, { requestId: 'fresh-1' })], claim: claim('jti-fresh'), generations: after }),
    ]);
    expect(stale).toEqual({ status: 'stale' });
    expect(fresh.status).toBe('committed');
    expect(await eventsOfRequest(database.db, 'stale-1')).toBe(0);
    // Nothing was claimed: decided again under the fresh generations, the request commits.
    expect((await a.commit({ events: [readEvent(1, { requestId: 'stale-1' })], claim: claim('jti-stale'), generations: after })).status).toBe('committed');
    // Keys count too.
    await other.db.update(tables.hubState).set({ generation: sql`${tables.hubState.generation} + 1` }).where(sql`${tables.hubState.key} = 'organisations'`);
    expect(await b.commit({ events: [], claim: claim('jti-keys'), generations: after })).toEqual({ status: 'stale' });
  });

  it('re-chains a batch onto a head another instance moved, keeping one gapless chain', async () => {
    await Promise.all([
      ...oneTo(20).map((n) => a.commit({ events: [readEvent(n), readEvent(n)], claim: claim(`jti-ha-${n}`) })),
      ...oneTo(20).map((n) => b.commit({ events: [readEvent(n)], claim: claim(`jti-hb-${n}`) })),
    ]);
    const result = await verifyChain(database.db);
    expect(result.intact).toBe(true);
  });

  it('answers a request only once its events are committed: a COMMIT that fails leaves it refused, nothing claimed', async () => {
    // b appends, so a's cached head is behind and its batch goes the locked transaction's way.
    await b.append([readEvent(1, { requestId: 'moves-the-head' })]);
    // A real fault at the last moment: a deferred constraint trigger raises at COMMIT, after
    // accord_commit has answered ok inside the transaction.
    await database.db.execute(sql`create function accord_test_refuse_commit() returns trigger language plpgsql as $$ begin raise exception 'refused at commit'; end $$`);
    await database.db.execute(sql`create constraint trigger accord_test_refuse_commit after insert on audit_events deferrable initially deferred for each row execute function accord_test_refuse_commit()`);
    try {
      await expect(a.commit({ events: [readEvent(1, { requestId: 'lost-at-commit' })], claim: claim('jti-lost-at-commit') })).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    } finally {
      await database.db.execute(sql`drop trigger accord_test_refuse_commit on audit_events`);
      await database.db.execute(sql`drop function accord_test_refuse_commit()`);
    }
    expect(await eventsOfRequest(database.db, 'lost-at-commit')).toBe(0);
    // Nothing was claimed and the writer learns the head again: the same token now commits.
    const again = await a.commit({ events: [readEvent(1, { requestId: 'after-the-fault' })], claim: claim('jti-lost-at-commit') });
    expect(again.status).toBe('committed');
    expect(await eventsOfRequest(database.db, 'after-the-fault')).toBe(1);
  });

  it('lets a token id be used again once its token has expired', async () => {
    expect((await a.commit({ events: [], claim: claim('jti-expiring', 'westminster', new Date(clock().getTime() + 1000)) })).status).toBe('committed');
    clock.advance(2000);
    expect((await b.commit({ events: [], claim: claim('jti-expiring') })).status).toBe('committed');
  });
});

describe('replay memory', () => {
  it('refuses from memory an id this instance saw claimed, until its token expires, and purges expired rows', async () => {
    const statements: string[] = [];
    const database = await createTestDatabase({ onQuery: (query) => statements.push(query) });
    try {
      const local = fixedClock('2026-03-01T12:00:00Z');
      const guard = createDatabaseReplayGuard(database.db, local, { purgeIntervalMs: 60_000 });
      await database.db.insert(tables.tokenReplays).values({ iss: 'westminster', jti: 'old', expiresAt: new Date(local().getTime() - 1) });
      statements.length = 0;
      guard.remember({ iss: 'westminster', jti: 'j', until: new Date(local().getTime() + 1000) });
      expect(guard.seen('westminster', 'j')).toBe(true);
      expect(guard.seen('camden', 'j')).toBe(false);
      expect(statements).toEqual([]);
      local.advance(61_000);
      expect(guard.seen('westminster', 'j')).toBe(false);
      guard.remember({ iss: 'westminster', jti: 'k', until: new Date(local().getTime() + 1000) }); // due for a purge
      await expect.poll(async () => (await database.db.select().from(tables.tokenReplays)).map((r) => r.jti)).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
