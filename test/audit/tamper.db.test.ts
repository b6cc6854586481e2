/**
 * Tampering with the audit trail as the database superuser, who can switch the append-only
 * triggers off (CONTRACT §7, issue 4 item 8): every edit, deletion and rewrite is found by
 * `verifyChain` at the exact seq where it can first be proven.
 */
import { sql, type SQL } from 'drizzle-orm';
import { CompactSign, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  checkpointJwsType,
  checkpointPayload,
  createAuditWriter,
  createCheckpointer,
  hashEvent,
  loadHubSigningKey,
  storedEventOfRow,
  verifyChain,
  type AuditEventInput,
  type StoredAuditEvent,
} from '../../src/audit/index.js';
import { fixedClock } from '../../src/clock.js';
import { databaseErrorOf, rowsOf, type Db } from '../../src/db/index.js';
import { auditEvents } from '../../src/db/tables.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { readEvent } from './helpers.js';

const clock = fixedClock(new Date('2026-03-01T09:30:00.000Z'));

/** A READ event listing the record it released (CONTRACT §7). */
function disclosure(n: number): AuditEventInput {
  return readEvent(n, {
    records: [
      {
        recordType: 'Demographics',
        recordId: `rec-${n}`,
        fields: ['familyName', 'givenName'],
        withheld: ['dateOfBirth'],
        agreements: [{ id: 'triborough-mash-children', version: 1, payloadHash: 'ab'.repeat(32) }],
      },
    ],
  });
}

/** As the superuser: the triggers that make the trail append-only are off for `change`. */
async function asSuperuser(db: Db, change: SQL): Promise<void> {
  await db.execute(sql`alter table audit_events disable trigger user`);
  await db.execute(sql`alter table audit_checkpoints disable trigger user`);
  try {
    await db.execute(change);
  } finally {
    await db.execute(sql`alter table audit_events enable trigger user`);
    await db.execute(sql`alter table audit_checkpoints enable trigger user`);
  }
}

/**
 * What a careful attacker with superuser rights does: change one event, then recompute every
 * prevHash and hash from there to the head so the chain is self-consistent again.
 */
async function rewriteFrom(db: Db, fromSeq: number, change: (event: StoredAuditEvent) => StoredAuditEvent): Promise<void> {
  const rows = (await db.select().from(auditEvents).orderBy(auditEvents.seq)).map(storedEventOfRow);
  let prevHash = rows.find((r) => r.seq === fromSeq - 1)?.hash ?? '0'.repeat(64);
  for (const row of rows.filter((r) => r.seq >= fromSeq)) {
    const body = row.seq === fromSeq ? change(row) : row;
    const hash = hashEvent(prevHash, body);
    await asSuperuser(
      db,
      sql`update audit_events set purpose = ${body.purpose}, prev_hash = ${prevHash}, hash = ${hash} where seq = ${row.seq}`,
    );
    prevHash = hash;
  }
}

describe('tampering with the audit trail', { timeout: 60_000 }, () => {
  let testDb: TestDatabase;
  let db: Db;

  // 25 events; the hub signed checkpoints at seq 10 and 20.
  beforeEach(async () => {
    testDb = await createTestDatabase();
    db = testDb.db;
    const key = await loadHubSigningKey({ dataDir: 'memory://', db, clock });
    const writer = createAuditWriter(db, { clock });
    const checkpointer = createCheckpointer(db, { key, everyEvents: 1_000_000, intervalMs: 3_600_000, clock });
    let n = 0;
    for (const count of [10, 10, 5]) {
      await writer.append(Array.from({ length: count }, () => disclosure((n += 1))));
      if (n <= 20) await checkpointer.checkpointNow();
    }
    await checkpointer.stop();
    await writer.close();
    const before = await verifyChain(db);
    expect(before).toMatchObject({ intact: true, headSeq: 25, checked: 25, checkpointsChecked: 2, verifiedUpTo: 25 });
  });
  afterEach(async () => {
    await testDb.close();
  });

  it.each([
    ['purpose', sql`update audit_events set purpose = 'marketing' where seq = 7`],
    ['fields released', sql`update audit_events set records = jsonb_set(records, '{0,fields}', '["givenName"]') where seq = 7`],
    ['fields withheld', sql`update audit_events set records = jsonb_set(records, '{0,withheld}', '[]') where seq = 7`],
    ['agreement cited', sql`update audit_events set records = jsonb_set(records, '{0,agreements}', '[]') where seq = 7`],
    ['agreement version', sql`update audit_events set records = jsonb_set(records, '{0,agreements,0,version}', '2') where seq = 7`],
    ['record id', sql`update audit_events set records = jsonb_set(records, '{0,recordId}', '"rec-999"') where seq = 7`],
    ['record added', sql`update audit_events set records = records || records where seq = 7`],
    ['records removed', sql`update audit_events set records = '[]'::jsonb where seq = 7`],
    ['records turned into the earlier shape', sql`update audit_events set records = null, record_type = 'Demographics', record_id = 'rec-7' where seq = 7`],
    // Values of types the writer never stores are read by the reference path, and do not verify.
    ['records made an object', sql`update audit_events set records = '{"0": {}}'::jsonb where seq = 7`],
    ['record fields made a number', sql`update audit_events set records = jsonb_set(records, '{0,fields}', '1e400') where seq = 7`],
    ['agreement version made a string', sql`update audit_events set records = jsonb_set(records, '{0,agreements,0,version}', '"1"') where seq = 7`],
    ['actor roles made a string', sql`update audit_events set actor_roles = '"social-worker"'::jsonb where seq = 7`],
    ['time beyond year 9999', sql`update audit_events set at = '10000-01-01T00:00:00Z' where seq = 7`],
    ['time infinite', sql`update audit_events set at = 'infinity' where seq = 7`],
    ['time moved by a microsecond across a millisecond', sql`update audit_events set at = at - interval '1 microsecond' where seq = 7`],
    ['time', sql`update audit_events set at = at - interval '1 day' where seq = 7`],
    ['subject', sql`update audit_events set nhs_number = '9434765870' where seq = 7`],
    ['actor', sql`update audit_events set actor_org = 'met-police' where seq = 7`],
    ['details', sql`update audit_events set details = '{"note":"nothing to see"}'::jsonb where seq = 7`],
    ['outcome', sql`update audit_events set outcome = 'DENIED' where seq = 7`],
  ])('an edited %s is found at that seq (hash mismatch)', async (_, edit) => {
    await asSuperuser(db, edit);
    const result = await verifyChain(db);
    expect(result).toMatchObject({ intact: false, verifiedUpTo: 6, firstBad: { seq: 7, kind: 'hash-mismatch' } });
    expect(result.firstBad?.message).toMatch(/event 7/);
  });

  it('a value stored again unchanged is no edit (jsonb is read as JSON, not as bytes)', async () => {
    await asSuperuser(db, sql`update audit_events set records = (records::text)::jsonb || '[]'::jsonb, actor_roles = actor_roles || '[]'::jsonb where seq = 7`);
    expect(await verifyChain(db)).toMatchObject({ intact: true, headSeq: 25, checked: 25 });
  });

  it('an edited hash is found at that seq', async () => {
    await asSuperuser(db, sql`update audit_events set hash = ${'f'.repeat(64)} where seq = 7`);
    expect(await verifyChain(db)).toMatchObject({ intact: false, firstBad: { seq: 7, kind: 'hash-mismatch' } });
  });

  it('a deleted event is found as a gap at its seq', async () => {
    await asSuperuser(db, sql`delete from audit_events where seq = 12`);
    const result = await verifyChain(db);
    expect(result).toMatchObject({ intact: false, verifiedUpTo: 11, firstBad: { seq: 12, kind: 'gap' } });
    expect(result.firstBad?.message).toMatch(/event 12 is missing/);
  });

  it('deleting the newest events is exposed by a checkpoint that covered them', async () => {
    await asSuperuser(db, sql`delete from audit_events where seq >= 16`);
    const result = await verifyChain(db);
    expect(result).toMatchObject({ intact: false, headSeq: 15, firstBad: { seq: 16, kind: 'gap' } });
    expect(result.firstBad?.message).toMatch(/checkpoint covers seq 20/);
  });

  it('a chain recomputed from seq 8 onward hashes consistently but is exposed by the checkpoint at seq 10', async () => {
    await rewriteFrom(db, 8, (event) => ({ ...event, purpose: 'marketing' }));
    // The rewrite itself is self-consistent: only the signature gives it away.
    const [row8] = rowsOf<{ purpose: string }>(await db.execute(sql`select purpose from audit_events where seq = 8`));
    expect(row8?.purpose).toBe('marketing');
    const result = await verifyChain(db);
    expect(result).toMatchObject({ intact: false, verifiedUpTo: 0, firstBad: { seq: 10, kind: 'checkpoint-mismatch' } });
    expect(result.firstBad?.message).toMatch(/between seq 1 and 10/);
  });

  it('a chain recomputed from seq 14 onward is exposed by the checkpoint at seq 20, the events before it still verified', async () => {
    await rewriteFrom(db, 14, (event) => ({ ...event, purpose: 'marketing' }));
    expect(await verifyChain(db)).toMatchObject({ intact: false, verifiedUpTo: 10, firstBad: { seq: 20, kind: 'checkpoint-mismatch' } });
  });

  it('a checkpoint re-signed with a key the hub never published is refused', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const [row] = rowsOf<{ hash: string; kid: string }>(await db.execute(sql`select hash, kid from audit_checkpoints where seq = 20`));
    const forged = await new CompactSign(new TextEncoder().encode(checkpointPayload(20, row?.hash ?? '', clock())))
      .setProtectedHeader({ alg: 'EdDSA', kid: row?.kid ?? '', typ: checkpointJwsType })
      .sign(privateKey);
    await asSuperuser(db, sql`update audit_checkpoints set jws = ${forged} where seq = 20`);
    expect(await verifyChain(db)).toMatchObject({ intact: false, verifiedUpTo: 10, firstBad: { seq: 20, kind: 'checkpoint-signature' } });
  });

  it('a checkpoint whose stored hash was edited to match a rewrite no longer matches what was signed', async () => {
    await rewriteFrom(db, 14, (event) => ({ ...event, purpose: 'marketing' }));
    await asSuperuser(db, sql`update audit_checkpoints set hash = (select hash from audit_events where seq = 20) where seq = 20`);
    expect(await verifyChain(db)).toMatchObject({ intact: false, firstBad: { seq: 20, kind: 'checkpoint-mismatch' } });
  });
});

describe('the append-only audit tables', () => {
  let testDb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = testDb.db;
    const key = await loadHubSigningKey({ dataDir: 'memory://', db, clock });
    const writer = createAuditWriter(db, { clock });
    await writer.append([disclosure(1), disclosure(2), disclosure(3)]);
    await writer.close();
    const checkpointer = createCheckpointer(db, { key, everyEvents: 1_000_000, intervalMs: 3_600_000, clock });
    await checkpointer.checkpointNow();
    await checkpointer.stop();
  });
  afterAll(async () => {
    await testDb.close();
  });

  it.each([
    ['UPDATE', sql`update audit_events set purpose = 'x' where seq = 3`],
    ['DELETE', sql`delete from audit_events where seq = 3`],
    ['TRUNCATE', sql`truncate audit_events`],
    ['UPDATE a checkpoint', sql`update audit_checkpoints set hash = 'x' where seq = 3`],
    ['DELETE a checkpoint', sql`delete from audit_checkpoints where seq = 3`],
  ])('the database itself refuses %s while the triggers are on', async (_, statement) => {
    const error = await db.execute(statement).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(databaseErrorOf(error)?.message).toMatch(/append-only/);
    expect((await verifyChain(db)).intact).toBe(true);
  });

});
