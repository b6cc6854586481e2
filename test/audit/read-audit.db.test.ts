import { and, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditCursor,
  auditIntegrity,
  createAuditWriter,
  createCheckpointer,
  createIncrementalVerifier,
  loadHubSigningKey,
  queryAuditEvents,
  subjectAccessReport,
  type AuditAgreementRef,
  type AuditScope,
  type StoredAuditEvent,
} from '../../src/audit/index.js';
import { auditFilterConditions } from '../../src/audit/read-audit.js';
import { fixedClock } from '../../src/clock.js';
import { rowsOf } from '../../src/db/index.js';
import { auditEvents } from '../../src/db/tables.js';
import { AccordError, InputError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { insertLegacyEvent, readEvent, recordEntry } from './helpers.js';

const clock = fixedClock('2026-03-01T09:00:00.000Z');
const alice = '9434765919';
const bob = '9434765870';
const mash: AuditAgreementRef = { id: 'triborough-mash-children', version: 1, payloadHash: 'ab'.repeat(32) };
const socialCare: AuditAgreementRef = { id: 'triborough-social-care', version: 3, payloadHash: 'cd'.repeat(32) };
const hackneyPolice = (version: number): AuditAgreementRef => ({ id: 'hackney-police', version, payloadHash: String(version).repeat(64) });

/** Every agreement id an event cites, of either shape: its records', its legacy column's, the one it changed. */
function citedAgreementIds(e: StoredAuditEvent): string[] {
  const changed = (e.details?.agreement as { id?: string } | undefined)?.id;
  return [...e.records.flatMap((r) => r.agreements.map((a) => a.id)), ...(e.legacy?.agreements.map((a) => a.id) ?? []), ...(changed === undefined ? [] : [changed])];
}

describe('reading the audit trail', () => {
  let database: TestDatabase;
  /** Every event, as a full page returns it (checked against what was written below). */
  let all: StoredAuditEvent[] = [];
  /** The events as the writer returned them. */
  const written: StoredAuditEvent[] = [];
  const legacySeqs: number[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    // The trail of an upgraded hub starts with events of the earlier shape: one record each, in
    // the record columns, `records` NULL.
    const legacy = { actorRoles: ['social-worker'], purpose: 'safeguarding-children', outcome: 'SUCCESS' as const, queryHash: 'cd'.repeat(32) };
    clock.advance(60_000);
    legacySeqs.push(
      await insertLegacyEvent(database.db, {
        ...legacy, at: clock(), requestId: 'old-1', actorOrg: 'westminster', actorUser: 'worker-old', action: 'READ', ownerOrg: 'kensington-chelsea',
        nhsNumber: alice, recordType: 'Demographics', recordId: 'rec-1', fields: ['familyName'], agreements: [mash], sensitivity: 'personal',
        details: { withheld: ['postcode'] },
      }),
      await insertLegacyEvent(database.db, {
        ...legacy, at: clock(), requestId: 'old-2', actorOrg: 'met-police', actorUser: 'pc-old', action: 'READ', ownerOrg: 'hackney', purpose: 'crime-prevention',
        nhsNumber: bob, recordType: 'HousingTenancy', recordId: 'rec-old-h', fields: ['tenancyRef'], agreements: [hackneyPolice(1)], sensitivity: 'personal', details: {},
      }),
      await insertLegacyEvent(database.db, {
        ...legacy, at: clock(), requestId: 'old-3', actorOrg: 'met-police', actorUser: 'pc-old', action: 'DENY', outcome: 'DENIED', purpose: 'crime-prevention',
        nhsNumber: bob, recordType: 'GpRegistration', sensitivity: 'special-category', details: { reason: 'no agreement shares this record type' },
      }),
      await insertLegacyEvent(database.db, {
        ...legacy, at: clock(), requestId: 'old-4', actorOrg: 'hackney', actorUser: 'dpo-old', actorRoles: ['dpo'], action: 'AGREEMENT_SUBMIT', ownerOrg: 'hackney', purpose: null,
        agreements: [hackneyPolice(1)], details: { title: 'Hackney and the Met' },
      }),
    );
    const writer = createAuditWriter(database.db, { clock });
    // 30 events, one a minute: westminster reads two of kensington's records about a person at a
    // time (alice, then bob), met-police reads hackney's, and hackney publishes its own.
    for (let n = 1; n <= 30; n += 1) {
      clock.advance(60_000);
      const kind = n % 3;
      const event =
        kind === 1
          ? readEvent(n, {
              nhsNumber: n <= 15 ? alice : bob,
              records: [recordEntry(n), recordEntry(n, { recordId: `case-${n}`, recordType: 'SocialCareCase', fields: ['caseRef', 'status'], withheld: ['summary'], agreements: [socialCare] })],
            })
          : kind === 2
            ? readEvent(n, { actorOrg: 'met-police', ownerOrg: 'hackney', purpose: 'crime-prevention', nhsNumber: bob, agreements: [hackneyPolice(2)] })
            : readEvent(n, { actorOrg: 'hackney', ownerOrg: 'hackney', action: 'PUBLISH', agreements: [], fields: [], purpose: null, nhsNumber: alice });
      written.push(...(await writer.append([event])));
    }
    clock.advance(60_000);
    written.push(
      ...(await writer.append([
        // A DENY names only the record type asked for.
        readEvent(31, {
          actorOrg: 'met-police', ownerOrg: null, action: 'DENY', outcome: 'DENIED', purpose: 'crime-prevention', nhsNumber: alice, sensitivity: 'criminal-offence',
          records: [{ recordType: 'PoliceNotification', recordId: null, fields: [], withheld: [], agreements: [] }],
          details: { reason: 'no agreement shares this record type with the caller for this purpose and role' },
        }),
        // An agreement event names the agreement it changed in its details, and no record.
        readEvent(32, {
          actorOrg: 'hackney', ownerOrg: 'hackney', action: 'AGREEMENT_REVOKE', nhsNumber: null, purpose: null, recordType: null, sensitivity: null,
          details: { agreement: hackneyPolice(2) as unknown as { [key: string]: string | number }, revokedBy: 'hackney', reason: 'superseded' },
        }),
      ])),
    );
    await writer.close();
    all = (await queryAuditEvents(database.db, { scope: { allOrgs: true }, first: 500 })).events;
  });
  afterAll(async () => {
    await database.close();
  });

  const seqsOf = (events: StoredAuditEvent[]) => events.map((e) => e.seq);
  const allSeqs = (predicate: (e: StoredAuditEvent) => boolean) => seqsOf(all.filter(predicate));
  const seqOfRecord = (recordId: string) => written.find((e) => e.records.some((r) => r.recordId === recordId))?.seq;

  it('returns events of both shapes in seq order: the earlier ones first, then those the writer wrote, whole', () => {
    expect(seqsOf(all)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    expect(legacySeqs).toEqual([1, 2, 3, 4]);
    expect(all.slice(4)).toEqual(written);
    expect(all.slice(4).every((e) => e.legacy === undefined)).toBe(true);
    expect(all[4]?.records.map((r) => r.recordId)).toEqual(['rec-1', 'case-1']);
  });

  it('shows an event of the earlier shape with its one record in records, withheld fields from its details', () => {
    const [read, , deny, submit] = all;
    expect(read).toMatchObject({
      seq: 1,
      action: 'READ',
      records: [{ recordType: 'Demographics', recordId: 'rec-1', fields: ['familyName'], withheld: ['postcode'], agreements: [mash] }],
      legacy: { recordType: 'Demographics', recordId: 'rec-1', fields: ['familyName'], agreements: [mash] },
    });
    expect(deny?.records).toEqual([{ recordType: 'GpRegistration', recordId: null, fields: [], withheld: [], agreements: [] }]);
    // An event that named no record type concerns no record; its agreement stays in `legacy`.
    expect(submit?.records).toEqual([]);
    expect(submit?.legacy?.agreements).toEqual([hackneyPolice(1)]);
  });

  it.each<[string, AuditScope, (e: StoredAuditEvent) => boolean]>([
    ['the hub operator sees every event', { allOrgs: true }, () => true],
    ['an organisation sees events where it is the actor or the owner', { org: 'hackney' }, (e) => e.actorOrg === 'hackney' || e.ownerOrg === 'hackney'],
    ['an owner sees who read its records', { org: 'kensington-chelsea' }, (e) => e.ownerOrg === 'kensington-chelsea'],
    ['an organisation with no events sees none', { org: 'camden' }, () => false],
  ])('%s', async (_name, scope, visible) => {
    const page = await queryAuditEvents(database.db, { scope, first: 500 });
    expect(seqsOf(page.events)).toEqual(allSeqs(visible));
    // Never another organisation's events, whatever the filter asks for.
    const filtered = await queryAuditEvents(database.db, { scope, filter: { actorOrg: 'westminster' }, first: 500 });
    expect(seqsOf(filtered.events)).toEqual(allSeqs((e) => visible(e) && e.actorOrg === 'westminster'));
  });

  it('returns stored events whole, with Date times and parsed lists', async () => {
    const { events } = await queryAuditEvents(database.db, { scope: { allOrgs: true }, first: 2, after: auditCursor(4) });
    expect(events).toEqual(written.slice(0, 2));
    expect(events[0]?.at).toBeInstanceOf(Date);
  });

  it.each<[string, Parameters<typeof queryAuditEvents>[1]['filter'], (e: StoredAuditEvent) => boolean]>([
    ['time range [from, to)', { from: new Date('2026-03-01T09:05:00.000Z'), to: new Date('2026-03-01T09:10:00.000Z') },
      (e) => e.at >= new Date('2026-03-01T09:05:00.000Z') && e.at < new Date('2026-03-01T09:10:00.000Z')],
    ['actor org', { actorOrg: 'met-police' }, (e) => e.actorOrg === 'met-police'],
    ['owner org', { ownerOrg: 'kensington-chelsea' }, (e) => e.ownerOrg === 'kensington-chelsea'],
    ['NHS number', { nhsNumber: bob }, (e) => e.nhsNumber === bob],
    ['purpose', { purpose: 'crime-prevention' }, (e) => e.purpose === 'crime-prevention'],
    ['action', { action: 'PUBLISH' }, (e) => e.action === 'PUBLISH'],
    ['agreement id, in events of both shapes and in agreement events', { agreementId: 'hackney-police' }, (e) => citedAgreementIds(e).includes('hackney-police')],
    ['an agreement cited only by the second record of events', { agreementId: 'triborough-social-care' }, (e) => citedAgreementIds(e).includes('triborough-social-care')],
    ['record id, in events of both shapes', { recordId: 'rec-1' }, (e) => e.records.some((r) => r.recordId === 'rec-1')],
    ['the id of an event\'s second record', { recordId: 'case-16' }, (e) => e.records.some((r) => r.recordId === 'case-16')],
    ['several filters at once', { nhsNumber: alice, actorOrg: 'westminster' }, (e) => e.nhsNumber === alice && e.actorOrg === 'westminster'],
  ])('filters by %s', async (_name, filter, predicate) => {
    const expected = allSeqs(predicate);
    expect(expected.length).toBeGreaterThan(0);
    const page = await queryAuditEvents(database.db, { scope: { allOrgs: true }, filter, first: 500 });
    expect(seqsOf(page.events)).toEqual(expected);
  });

  it('filters by record id: exactly the events concerning that record, whichever shape they were written in', async () => {
    const query = (recordId: string, scope: AuditScope = { allOrgs: true }) =>
      queryAuditEvents(database.db, { scope, filter: { recordId }, first: 500 }).then((page) => seqsOf(page.events));
    // The earlier event about rec-1 (seq 1) and the current one listing it with case-1.
    expect(await query('rec-1')).toEqual([1, seqOfRecord('rec-1')]);
    expect(await query('case-1')).toEqual([seqOfRecord('case-1')]);
    expect(await query('rec-old-h')).toEqual([2]);
    expect(await query('rec-2')).toEqual([seqOfRecord('rec-2')]);
    // A prefix, another record's id, or an id no event names match nothing.
    expect(await query('rec-')).toEqual([]);
    expect(await query('rec-999')).toEqual([]);
    // Still within the scope: hackney is neither actor nor owner of kensington's rec-1.
    expect(await query('rec-1', { org: 'kensington-chelsea' })).toEqual([1, seqOfRecord('rec-1')]);
    expect(await query('rec-1', { org: 'hackney' })).toEqual([]);
  });

  it('filters by record id through the GIN index on the record ids of either shape', async () => {
    const plan = await database.db.transaction(async (tx) => {
      // The table is small; take sequential scans out of the running so the plan shows whether
      // the condition can use the index at all.
      await tx.execute(sql`set local enable_seqscan = off`);
      const query = tx.select({ seq: auditEvents.seq }).from(auditEvents).where(and(...auditFilterConditions({ recordId: 'rec-1' })));
      return rowsOf<Record<string, string>>(await tx.execute(sql`explain ${query}`))
        .map((row) => Object.values(row).join(' '))
        .join('\n');
    });
    expect(plan).toContain('audit_events_record_ids_idx');
  });

  it('pages with opaque cursors until hasNextPage is false', async () => {
    const seen: number[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await queryAuditEvents(database.db, { scope: { org: 'hackney' }, first: 4, after });
      pages += 1;
      seen.push(...seqsOf(page.events));
      expect(page.events.length).toBeLessThanOrEqual(4);
      if (!page.hasNextPage) break;
      expect(page.endCursor).not.toBeNull();
      after = page.endCursor ?? undefined;
    }
    const expected = allSeqs((e) => e.actorOrg === 'hackney' || e.ownerOrg === 'hackney');
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 4));
    const empty = await queryAuditEvents(database.db, { scope: { allOrgs: true }, after: auditCursor(36) });
    expect(empty).toEqual({ events: [], hasNextPage: false, endCursor: null });
  });

  it('defaults to 50 a page', async () => {
    const page = await queryAuditEvents(database.db, { scope: { allOrgs: true } });
    expect(page.events).toHaveLength(36);
    expect(page.hasNextPage).toBe(false);
  });

  it.each<[string, Partial<Parameters<typeof queryAuditEvents>[1]>, string]>([
    ['first 0', { first: 0 }, 'first: must be from 1 to 500'],
    ['first 501', { first: 501 }, 'first: must be from 1 to 500'],
    ['first 1.5', { first: 1.5 }, 'first: must be from 1 to 500'],
    ['a made-up cursor', { after: 'bm90LWEtY3Vyc29y' }, 'after: is not a cursor returned by auditEvents'],
    ['a cursor with a negative seq', { after: Buffer.from('audit:-5').toString('base64url') }, 'after: is not a cursor'],
    ['a non-canonical cursor', { after: Buffer.from('audit:05').toString('base64url') }, 'after: is not a cursor'],
    ['to not after from', { filter: { from: new Date('2026-03-01T10:00:00Z'), to: new Date('2026-03-01T10:00:00Z') } }, 'filter.to: must be after filter.from'],
  ])('refuses %s with BAD_USER_INPUT', async (_name, options, message) => {
    const error = await queryAuditEvents(database.db, { scope: { allOrgs: true }, ...options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as AccordError).code).toBe('BAD_USER_INPUT');
    expect((error as AccordError).message).toContain(message);
  });

  it('refuses a scope that is neither all organisations nor one (programmer error)', async () => {
    await expect(queryAuditEvents(database.db, { scope: { allOrgs: 'yes' } as never })).rejects.toThrow(TypeError);
    await expect(queryAuditEvents(database.db, { scope: { org: '' } })).rejects.toThrow(TypeError);
  });

  it('lists every event about one person within the scope for a subject access report', async () => {
    const report = await subjectAccessReport(database.db, { scope: { allOrgs: true }, nhsNumber: alice });
    expect(seqsOf(report)).toEqual(allSeqs((e) => e.nhsNumber === alice));
    const forKensington = await subjectAccessReport(database.db, { scope: { org: 'kensington-chelsea' }, nhsNumber: bob });
    expect(seqsOf(forKensington)).toEqual(allSeqs((e) => e.nhsNumber === bob && e.ownerOrg === 'kensington-chelsea'));
    expect(forKensington.every((e) => e.actorOrg !== 'met-police')).toBe(true);
    expect(await subjectAccessReport(database.db, { scope: { allOrgs: true }, nhsNumber: '9999999999' })).toEqual([]);
  });

  it('summarises integrity: head, last checkpoint, and what the background verifier found', async () => {
    const before = await auditIntegrity(database.db);
    expect(before).toMatchObject({ headSeq: 36, headHash: all[35]?.hash, lastCheckpoint: undefined, verifiedUpTo: 0, intact: true, problem: undefined });

    const key = await loadHubSigningKey({ dataDir: 'memory://', db: database.db, clock });
    const checkpointer = createCheckpointer(database.db, { key, everyEvents: 1000, intervalMs: 3_600_000, clock });
    const checkpoint = await checkpointer.checkpointNow();
    await checkpointer.stop();
    const verifier = createIncrementalVerifier(database.db);
    const first = await verifier.verify();
    // The events of the earlier shape verify as they were written.
    expect(first).toMatchObject({ intact: true, checked: 36, verifiedUpTo: 36, checkpointsChecked: 1 });

    const writer = createAuditWriter(database.db, { clock });
    await writer.append([readEvent(37), readEvent(38)]);
    await writer.close();
    const second = await verifier.verify();
    // Continues where it stopped: two more events, not thirty-eight.
    expect(second).toMatchObject({ intact: true, checked: 38, verifiedUpTo: 38 });
    const integrity = await auditIntegrity(database.db, { lastVerification: verifier.latest() });
    expect(integrity).toMatchObject({ headSeq: 38, verifiedUpTo: 38, intact: true, problem: undefined });
    expect(integrity.lastCheckpoint).toEqual(checkpoint);
  });
});
