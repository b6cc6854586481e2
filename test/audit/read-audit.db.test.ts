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
  type AuditScope,
  type StoredAuditEvent,
} from '../../src/audit/index.js';
import { fixedClock } from '../../src/clock.js';
import { AccordError, InputError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { readEvent } from './helpers.js';

const clock = fixedClock('2026-03-01T09:00:00.000Z');
const alice = '9434765919';
const bob = '9434765870';

describe('reading the audit trail', () => {
  let database: TestDatabase;
  const all: StoredAuditEvent[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const writer = createAuditWriter(database.db, { clock });
    // 30 events, one a minute: westminster reads kensington's records (about alice, then bob),
    // met-police reads hackney's, and hackney publishes its own.
    for (let n = 1; n <= 30; n += 1) {
      clock.advance(60_000);
      const kind = n % 3;
      const event =
        kind === 1
          ? readEvent(n, { nhsNumber: n <= 15 ? alice : bob })
          : kind === 2
            ? readEvent(n, { actorOrg: 'met-police', ownerOrg: 'hackney', purpose: 'crime-prevention', nhsNumber: bob,
                agreements: [{ id: 'hackney-police', version: 2, payloadHash: 'ef'.repeat(32) }] })
            : readEvent(n, { actorOrg: 'hackney', ownerOrg: 'hackney', action: 'PUBLISH', agreements: [], purpose: null, nhsNumber: alice });
      all.push(...(await writer.append([event])));
    }
    await writer.close();
  });
  afterAll(async () => {
    await database.close();
  });

  const seqsOf = (events: StoredAuditEvent[]) => events.map((e) => e.seq);
  const allSeqs = (predicate: (e: StoredAuditEvent) => boolean) => seqsOf(all.filter(predicate));

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
    const { events } = await queryAuditEvents(database.db, { scope: { allOrgs: true }, first: 2 });
    expect(events).toEqual(all.slice(0, 2));
  });

  it.each<[string, Parameters<typeof queryAuditEvents>[1]['filter'], (e: StoredAuditEvent) => boolean]>([
    ['time range [from, to)', { from: new Date('2026-03-01T09:05:00.000Z'), to: new Date('2026-03-01T09:10:00.000Z') },
      (e) => e.at >= new Date('2026-03-01T09:05:00.000Z') && e.at < new Date('2026-03-01T09:10:00.000Z')],
    ['actor org', { actorOrg: 'met-police' }, (e) => e.actorOrg === 'met-police'],
    ['owner org', { ownerOrg: 'kensington-chelsea' }, (e) => e.ownerOrg === 'kensington-chelsea'],
    ['NHS number', { nhsNumber: bob }, (e) => e.nhsNumber === bob],
    ['purpose', { purpose: 'crime-prevention' }, (e) => e.purpose === 'crime-prevention'],
    ['action', { action: 'PUBLISH' }, (e) => e.action === 'PUBLISH'],
    ['agreement id', { agreementId: 'hackney-police' }, (e) => e.agreements.some((a) => a.id === 'hackney-police')],
    ['several filters at once', { nhsNumber: alice, actorOrg: 'westminster' }, (e) => e.nhsNumber === alice && e.actorOrg === 'westminster'],
  ])('filters by %s', async (_name, filter, predicate) => {
    const expected = allSeqs(predicate);
    expect(expected.length).toBeGreaterThan(0);
    const page = await queryAuditEvents(database.db, { scope: { allOrgs: true }, filter, first: 500 });
    expect(seqsOf(page.events)).toEqual(expected);
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
    const empty = await queryAuditEvents(database.db, { scope: { allOrgs: true }, after: auditCursor(30) });
    expect(empty).toEqual({ events: [], hasNextPage: false, endCursor: null });
  });

  it('defaults to 50 a page', async () => {
    const page = await queryAuditEvents(database.db, { scope: { allOrgs: true } });
    expect(page.events).toHaveLength(30);
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
    expect(before).toMatchObject({ headSeq: 30, headHash: all[29]?.hash, lastCheckpoint: undefined, verifiedUpTo: 0, intact: true, problem: undefined });

    const key = await loadHubSigningKey({ dataDir: 'memory://', db: database.db, clock });
    const checkpointer = createCheckpointer(database.db, { key, everyEvents: 1000, intervalMs: 3_600_000, clock });
    const checkpoint = await checkpointer.checkpointNow();
    await checkpointer.stop();
    const verifier = createIncrementalVerifier(database.db);
    const first = await verifier.verify();
    expect(first).toMatchObject({ intact: true, checked: 30, verifiedUpTo: 30, checkpointsChecked: 1 });

    const writer = createAuditWriter(database.db, { clock });
    await writer.append([readEvent(31), readEvent(32)]);
    await writer.close();
    const second = await verifier.verify();
    // Continues where it stopped: two more events, not thirty-two.
    expect(second).toMatchObject({ intact: true, checked: 32, verifiedUpTo: 32 });
    const integrity = await auditIntegrity(database.db, { lastVerification: verifier.latest() });
    expect(integrity).toMatchObject({ headSeq: 32, verifiedUpTo: 32, intact: true, problem: undefined });
    expect(integrity.lastCheckpoint).toEqual(checkpoint);
  });
});
