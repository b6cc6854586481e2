/**
 * Upgrading a hub whose audit chain was written by the previous release (CONTRACT §7: "events
 * written before this event shape existed stay in the chain and verify as they are"): a database
 * at the previous schema holds events of the one-record shape, hashed with the 21-key object;
 * migration 0003 adds `records`; the new writer appends events of the current shape onto the same
 * chain; `verifyChain` verifies both, and finds an edit of either at its seq.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createAuditWriter,
  createIncrementalVerifier,
  GENESIS_HASH,
  hashEvent,
  storedEventOfRow,
  toAuditEventBody,
  verifyChain,
  type AuditEventInput,
  type AuditJson,
  type AuditRecordEntry,
  type LegacyRecordColumns,
} from '../../src/audit/index.js';
import { fixedClock } from '../../src/clock.js';
import { migrationsFolder, openDatabase, rowsOf, type Database, type Db } from '../../src/db/index.js';
import { auditEvents } from '../../src/db/tables.js';
import { testBackend } from '../helpers/test-database.js';

const clock = fixedClock(new Date('2026-03-01T09:30:00.000Z'));
/** The last migration of the previous release. */
const previousReleaseMigrations = 3;

/** A copy of drizzle/ holding only the previous release's migrations. */
function previousReleaseMigrationsFolder(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-previous-release-'));
  fs.mkdirSync(path.join(folder, 'meta'));
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] };
  const entries = journal.entries.filter((e) => e.idx < previousReleaseMigrations);
  for (const e of entries) fs.copyFileSync(path.join(migrationsFolder, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
  fs.writeFileSync(path.join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  return folder;
}

/** An empty database migrated to the previous release's schema, as an upgrade finds it. */
async function openPreviousReleaseDatabase(): Promise<Database> {
  const folder = previousReleaseMigrationsFolder();
  try {
    if (testBackend === 'pglite') {
      const database = await openDatabase({ dataDir: 'memory://' });
      await migratePglite(database.db as never, { migrationsFolder: folder });
      return database;
    }
    const run = inject('postgresRun');
    const name = `${run.prefix}_${randomBytes(4).toString('hex')}`;
    const admin = postgres(run.adminUrl, { max: 1, onnotice: () => undefined });
    try {
      await admin.unsafe(`create database "${name}"`);
    } finally {
      await admin.end({ timeout: 5 });
    }
    const url = new URL(run.adminUrl);
    url.pathname = `/${name}`;
    const database = await openDatabase({ databaseUrl: url.toString(), dataDir: '' });
    await migratePostgres(database.db as never, { migrationsFolder: folder });
    return database;
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** An event of the previous release: the event's columns, plus its one record's. */
interface PreviousReleaseEvent {
  readonly input: Omit<AuditEventInput, 'records'>;
  readonly record: LegacyRecordColumns;
}

/**
 * Appends events exactly as the previous release's writer did: hashed with the 21-key object
 * onto the chain head, then inserted through jsonb_populate_recordset with the columns of its
 * `toRow` (which had no `records`).
 */
async function writeAsPreviousRelease(db: Db, events: readonly PreviousReleaseEvent[]): Promise<void> {
  const [head] = rowsOf<{ seq: number; hash: string }>(await db.execute(sql`select seq::float8 as seq, hash from audit_events order by seq desc limit 1`));
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  const rows = events.map(({ input, record }) => {
    const body = toAuditEventBody(input, clock());
    seq += 1;
    const hash = hashEvent(prevHash, { ...body, seq, legacy: record });
    const row = {
      seq, id: body.id, at: body.at.toISOString(), request_id: body.requestId, actor_org: body.actorOrg, actor_user: body.actorUser,
      actor_roles: body.actorRoles, purpose: body.purpose, case_ref: body.caseRef, action: body.action, owner_org: body.ownerOrg,
      record_type: record.recordType, record_id: record.recordId, nhs_number: body.nhsNumber, fields: record.fields,
      agreements: record.agreements, outcome: body.outcome, operation_name: body.operationName, query_hash: body.queryHash,
      sensitivity: body.sensitivity, details: body.details, prev_hash: prevHash, hash,
    };
    prevHash = hash;
    return row;
  });
  await db.execute(sql`insert into audit_events select * from jsonb_populate_recordset(null::audit_events, ${JSON.stringify(rows)}::jsonb)`);
}

/** Text that JSON writers get wrong: quotes, backslashes, controls, DEL, U+2028/9, non-BMP. */
const awkward = 'O\'Brien "the" \\ back\tslash\n\r\b\f\u0001\u001f\u007f \u2028\u2029 é € 😀 \uFFFD';
const agreement = { id: 'triborough-mash-children', version: 2, payloadHash: 'ab'.repeat(32) };

function previousReleaseEvents(from: number, count: number): PreviousReleaseEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const deny = n % 5 === 0;
    return {
      input: {
        requestId: `req-${n}`,
        actorOrg: 'westminster',
        actorUser: n % 3 === 0 ? awkward : `worker-${n}`,
        actorRoles: n % 2 === 0 ? ['social-worker', 'team-lead'] : ['social-worker'],
        purpose: 'safeguarding-children',
        caseRef: n % 4 === 0 ? null : `WCC-${n}`,
        action: deny ? 'DENY' : 'READ',
        ownerOrg: deny ? null : 'kensington-chelsea',
        nhsNumber: '9434765919',
        outcome: deny ? 'DENIED' : 'SUCCESS',
        operationName: 'Subject',
        queryHash: 'cd'.repeat(32),
        sensitivity: 'personal',
        // The previous release kept withheld fields in details.
        details: deny
          ? { reason: 'no agreement shares this record type' }
          : { withheld: ['dateOfBirth'], note: awkward, big: 2 ** 53 - 1, small: 1e-7, tiny: 5e-324, half: -0.5, '\u{1F600}': 1, '\uFFFD': 2 },
      },
      record: deny
        ? { recordType: 'Demographics', recordId: null, fields: [], agreements: [] }
        : { recordType: 'Demographics', recordId: `rec-${n}`, fields: ['givenName', 'familyName', n % 2 === 0 ? awkward : 'postcode'], agreements: [agreement] },
    };
  });
}

function currentEvents(from: number, count: number): AuditEventInput[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const records: AuditRecordEntry[] =
      n % 4 === 0
        ? [{ recordType: 'SocialCareCase', recordId: null, fields: [], withheld: [], agreements: [] }]
        : Array.from({ length: 1 + (n % 3) }, (_, k) => ({
            recordType: k === 0 ? 'Demographics' : 'SocialCareCase',
            recordId: `rec-${n}-${k}${n % 5 === 0 ? awkward : ''}`,
            fields: ['familyName', 'givenName', ...(k === 1 ? [awkward] : [])],
            withheld: k === 2 ? ['dateOfBirth', 'notes'] : [],
            agreements: [agreement, ...(k === 1 ? [{ ...agreement, id: 'police-notifications', version: 7 }] : [])],
          }));
    return {
      requestId: `req-${n}`,
      actorOrg: 'westminster',
      actorUser: n % 3 === 0 ? awkward : `worker-${n}`,
      actorRoles: ['social-worker'],
      purpose: 'safeguarding-children',
      caseRef: `WCC-${n}`,
      action: n % 4 === 0 ? 'DENY' : 'READ',
      ownerOrg: n % 4 === 0 ? null : 'kensington-chelsea',
      nhsNumber: '9434765919',
      records,
      outcome: n % 4 === 0 ? 'DENIED' : 'SUCCESS',
      operationName: 'Subject',
      queryHash: `hmac-sha256:${'ef'.repeat(32)}`,
      sensitivity: 'personal',
      details: n % 4 === 0 ? { reason: awkward } : null,
    };
  });
}

/** As the superuser: the triggers that make the trail append-only are off for `change`. */
async function asSuperuser(db: Db, change: SQL): Promise<void> {
  await db.execute(sql`alter table audit_events disable trigger user`);
  try {
    await db.execute(change);
  } finally {
    await db.execute(sql`alter table audit_events enable trigger user`);
  }
}

describe('a chain begun by the previous release, continued by this one', { timeout: 120_000 }, () => {
  let database: Database;
  let db: Db;
  const legacyCount = 30;
  const currentCount = 30;

  beforeAll(async () => {
    database = await openPreviousReleaseDatabase();
    db = database.db;
    await writeAsPreviousRelease(db, previousReleaseEvents(1, 20));
    await writeAsPreviousRelease(db, previousReleaseEvents(21, legacyCount - 20));
    // The upgrade: migration 0003 adds `records`, NULL on every event written so far.
    await database.migrate();
    await database.ready();
    const writer = createAuditWriter(db, { clock });
    await writer.append(currentEvents(1, 10));
    for (let n = 11; n <= currentCount; n += 5) await writer.append(currentEvents(n, 5));
    await writer.close();
  });
  afterAll(async () => {
    await database.close();
  });

  it('holds events of both shapes: the earlier ones with records NULL', async () => {
    const shapes = rowsOf<{ legacy: number; current: number }>(
      await db.execute(sql`select count(*) filter (where records is null)::int as legacy, count(*) filter (where records is not null)::int as current from audit_events`),
    );
    expect(shapes[0]).toEqual({ legacy: legacyCount, current: currentCount });
  });

  it('verifies the whole chain, across the change of shape', async () => {
    const result = await verifyChain(db);
    expect(result).toMatchObject({ intact: true, headSeq: legacyCount + currentCount, checked: legacyCount + currentCount, verifiedUpTo: legacyCount + currentCount });
    expect(result.firstBad).toBeUndefined();
    // Small pages, and from the middle of each shape.
    expect(await verifyChain(db, { pageSize: 7 })).toMatchObject({ intact: true, checked: legacyCount + currentCount });
    expect(await verifyChain(db, { fromSeq: 25, pageSize: 4 })).toMatchObject({ intact: true, checked: legacyCount + currentCount - 24 });
  });

  it('reads an event of the earlier shape with its one record (withheld fields from details)', async () => {
    const [row] = await db.select().from(auditEvents).where(sql`seq = 2`);
    const event = storedEventOfRow(row as NonNullable<typeof row>);
    expect(event.legacy).toMatchObject({ recordType: 'Demographics', recordId: 'rec-2' });
    expect(event.records).toEqual([
      { recordType: 'Demographics', recordId: 'rec-2', fields: ['givenName', 'familyName', awkward], withheld: ['dateOfBirth'], agreements: [agreement] },
    ]);
    expect(hashEvent(event.prevHash, event)).toBe(event.hash);
  });

  it('verifies incrementally across the boundary, continuing from the hash it computed', async () => {
    const verifier = createIncrementalVerifier(db, { pageSize: 8 });
    expect(await verifier.verify()).toMatchObject({ intact: true, checked: legacyCount + currentCount });
    const writer = createAuditWriter(db, { clock });
    await writer.append(currentEvents(100, 3));
    await writer.close();
    expect(await verifier.verify()).toMatchObject({ intact: true, checked: legacyCount + currentCount + 3, headSeq: legacyCount + currentCount + 3 });
  });

  describe('an edit of an event of the earlier shape', () => {
    // Each case edits seq 12 (a READ) or 10 (a DENY) and puts it back afterwards.
    beforeAll(async () => {
      await db.execute(sql`create table audit_events_backup as select * from audit_events`);
    });
    afterAll(async () => {
      await db.execute(sql`drop table audit_events_backup`);
    });

    it.each([
      [12, 'its fields released', sql`update audit_events set fields = '["givenName"]'::jsonb where seq = 12`],
      [12, 'its record id', sql`update audit_events set record_id = 'rec-999' where seq = 12`],
      [12, 'its record type', sql`update audit_events set record_type = 'SocialCareCase' where seq = 12`],
      [12, 'its agreement version', sql`update audit_events set agreements = jsonb_set(agreements, '{0,version}', '3') where seq = 12`],
      [12, 'its withheld fields (kept in details)', sql`update audit_events set details = jsonb_set(details, '{withheld}', '[]') where seq = 12`],
      [12, 'its details numbers', sql`update audit_events set details = jsonb_set(details, '{small}', '1e-6') where seq = 12`],
      [12, 'its purpose', sql`update audit_events set purpose = 'marketing' where seq = 12`],
      [12, 'records given to it (the current shape)', sql`update audit_events set records = '[]'::jsonb where seq = 12`],
      [10, 'the record type a DENY named', sql`update audit_events set record_type = 'PoliceNotification' where seq = 10`],
      [10, 'a record id given to a DENY', sql`update audit_events set record_id = 'rec-1' where seq = 10`],
    ])('is found at seq %i: %s', async (seq, _, edit) => {
      await asSuperuser(db, edit);
      try {
        const result = await verifyChain(db);
        expect(result).toMatchObject({ intact: false, verifiedUpTo: seq - 1, firstBad: { seq, kind: 'hash-mismatch' } });
        expect(result.firstBad?.message).toMatch(new RegExp(`event ${seq}\\b`));
      } finally {
        await asSuperuser(
          db,
          sql`update audit_events as e set record_type = b.record_type, record_id = b.record_id, fields = b.fields, agreements = b.agreements,
                details = b.details, purpose = b.purpose, records = b.records from audit_events_backup as b where e.seq = b.seq and e.seq = ${seq}`,
        );
      }
      expect((await verifyChain(db)).intact).toBe(true);
    });

    it('is not made by storing the same jsonb values again', async () => {
      await asSuperuser(db, sql`update audit_events set fields = fields || '[]'::jsonb, details = details || '{}'::jsonb where seq = 12`);
      expect(await verifyChain(db)).toMatchObject({ intact: true });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Random events through the real writer and the database, verified by the verifier's own reading
// of the rows (PostgreSQL's JSON strings and jsonb text): the property tests of chain.test.ts,
// end to end on each backend.
// ---------------------------------------------------------------------------------------------

/** Characters that are awkward for JSON and storable in PostgreSQL (no NUL, no lone surrogate). */
const storableChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'Z', '0', ' ', ',', ':', '{', '[', ']', '}') },
  { weight: 2, arbitrary: fc.constantFrom('"', '\\', '/', "'", '", "', '": "') },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\u007f', '\u0080', '\u00e9', '\u2028', '\u2029', '\uFEFF', '\uFFFD', '\uFFFF', '€') },
  { weight: 2, arbitrary: fc.constantFrom('\u{1F600}', '\u{10000}', '\u{10FFFF}', '\u{1D11E}') },
);
const text = fc.string({ unit: storableChar, maxLength: 10 });
const json: fc.Arbitrary<AuditJson> = fc.letrec<{ value: AuditJson }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    // The writer refuses integers beyond 2^53 (they would not survive jsonb and JSON.parse).
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x) || Number.isSafeInteger(x)),
    fc.constantFrom(1e-7, 1.5e-7, -0, 0.1, 5e-324, 2 ** 53 - 1, 1.7976931348623157e-300),
    text,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(text, fc.constantFrom('\u{1F600}', '\uFFFD', 'a', 'aa', 'B')), tie('value'), { maxKeys: 3, noNullPrototype: true }),
  ),
})).value;
const nullable = fc.option(text, { nil: null });
const recordEntry: fc.Arbitrary<AuditRecordEntry> = fc.record({
  recordType: text,
  recordId: nullable,
  fields: fc.array(text, { maxLength: 5 }),
  withheld: fc.array(text, { maxLength: 3 }),
  agreements: fc.array(fc.record({ id: text, version: fc.integer({ min: 0, max: 2 ** 31 }), payloadHash: text }), { maxLength: 2 }),
});
const randomEvent: fc.Arbitrary<AuditEventInput> = fc.record({
  at: fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
  requestId: text,
  actorOrg: nullable,
  actorUser: nullable,
  actorRoles: fc.array(text, { maxLength: 3 }),
  purpose: nullable,
  caseRef: nullable,
  action: fc.constantFrom('READ', 'BREAK_GLASS', 'DENY', 'PUBLISH', 'RETRACT', 'ADMIN' as const),
  ownerOrg: nullable,
  nhsNumber: nullable,
  records: fc.oneof(fc.constant([]), fc.array(recordEntry, { minLength: 1, maxLength: 4 })),
  outcome: fc.constantFrom('SUCCESS', 'DENIED', 'FAILURE' as const),
  operationName: nullable,
  queryHash: nullable,
  sensitivity: nullable,
  details: fc.option(fc.dictionary(text, json, { maxKeys: 4, noNullPrototype: true }), { nil: null }),
});
const randomLegacyEvent: fc.Arbitrary<PreviousReleaseEvent> = fc.record({
  input: randomEvent.map(({ records: _records, ...input }) => input),
  record: fc.record({
    recordType: nullable,
    recordId: nullable,
    fields: fc.array(text, { maxLength: 5 }),
    agreements: fc.array(fc.record({ id: text, version: fc.integer({ min: 0, max: 2 ** 31 }), payloadHash: text }), { maxLength: 2 }),
  }),
});

describe('random events of both shapes, stored and verified (property)', { timeout: 120_000 }, () => {
  it('verify intact through the database, and an edit of any one of them is found at its seq', async () => {
    const database = await openPreviousReleaseDatabase();
    try {
      const db = database.db;
      const legacy = fc.sample(randomLegacyEvent, { numRuns: 60, seed: 4242 });
      await writeAsPreviousRelease(db, legacy);
      await database.migrate();
      const current = fc.sample(randomEvent, { numRuns: 120, seed: 4243 });
      const writer = createAuditWriter(db, { clock });
      for (let i = 0; i < current.length; i += 17) await writer.append(current.slice(i, i + 17));
      await writer.close();
      const total = legacy.length + current.length;
      const result = await verifyChain(db, { pageSize: 50 });
      if (!result.intact) {
        const bad = result.firstBad?.seq ?? 0;
        const [row] = await db.select().from(auditEvents).where(sql`seq = ${bad}`);
        expect.fail(`event ${bad} did not verify: ${JSON.stringify(row)}`);
      }
      expect(result).toMatchObject({ intact: true, checked: total });

      // Any single event, of either shape, changed in its actor: found at its seq.
      for (const seq of [1, 17, legacy.length, legacy.length + 1, legacy.length + 60, total]) {
        const [before] = rowsOf<{ actor_user: string | null }>(await db.execute(sql`select actor_user from audit_events where seq = ${seq}`));
        await asSuperuser(db, sql`update audit_events set actor_user = coalesce(actor_user, '') || 'x' where seq = ${seq}`);
        expect(await verifyChain(db, { pageSize: 50 })).toMatchObject({ intact: false, firstBad: { seq, kind: 'hash-mismatch' } });
        await asSuperuser(db, sql`update audit_events set actor_user = ${before?.actor_user ?? null} where seq = ${seq}`);
      }
      expect(await verifyChain(db)).toMatchObject({ intact: true, checked: total });
    } finally {
      await database.close();
    }
  });
});
