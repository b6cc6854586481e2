import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import canonicalizeModule from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditWriter, exportAuditEvents, fhirSystems, GENESIS_HASH, type AuditExportFormat, type StoredAuditEvent } from '../../src/audit/index.js';
import { fixedClock } from '../../src/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { insertLegacyEvent, readEvent, recordEntry } from './helpers.js';

// CommonJS `module.exports = fn`, typed as an ES default export (see src/audit/chain.ts).
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;

const clock = fixedClock('2026-03-01T09:00:00.000Z');

/** A destination that accepts little at a time, asynchronously. */
function slowSink(): Writable & { text(): string } {
  const chunks: string[] = [];
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      setImmediate(done);
    },
  }) as Writable & { text(): string };
  sink.text = () => chunks.join('');
  return sink;
}

async function exported(database: TestDatabase, format: AuditExportFormat, more: { from?: Date; to?: Date; pageSize?: number } = {}) {
  const out = slowSink();
  const progress: number[] = [];
  const { count } = await exportAuditEvents(database.db, { format, out, clock, hubId: 'test-hub', onProgress: (n) => progress.push(n), ...more });
  out.end();
  await new Promise((resolve) => out.on('finish', resolve));
  return { text: out.text(), count, progress };
}

/** RFC 4180 parser, written independently of the exporter. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += c;
  }
  return rows;
}

describe('audit export', () => {
  let database: TestDatabase;
  /** The writer's events, seq 2 to 41; seq 1 is an event of the earlier shape. */
  let events: StoredAuditEvent[];
  const socialCare = { id: 'triborough-social-care', version: 3, payloadHash: 'ef'.repeat(32) };

  beforeAll(async () => {
    database = await createTestDatabase();
    // An upgraded hub's trail starts with an event of the earlier shape (one record, `records` NULL).
    await insertLegacyEvent(database.db, {
      at: clock(), requestId: 'old-1', actorOrg: 'westminster', actorUser: 'worker-old', actorRoles: ['social-worker'], purpose: 'safeguarding-children',
      action: 'READ', outcome: 'SUCCESS', ownerOrg: 'kensington-chelsea', nhsNumber: '9434765919', recordType: 'HousingTenancy', recordId: 'rec-old',
      fields: ['tenancyRef'], agreements: [{ id: 'triborough-mash-children', version: 1, payloadHash: 'ab'.repeat(32) }], sensitivity: 'personal',
      details: { withheld: ['rentArrears'] },
    });
    const writer = createAuditWriter(database.db, { clock });
    const inputs = [
      // One event, two records of one person held by one owner.
      readEvent(1, {
        actorUser: '=HYPERLINK("http://evil.example","click")',
        caseRef: 'line one\nline "two", three',
        sensitivity: 'special-category',
        records: [
          recordEntry(1),
          recordEntry(1, { recordId: 'case-1', recordType: 'SocialCareCase', fields: ['caseRef', 'status'], withheld: ['summary'], agreements: [socialCare] }),
        ],
      }),
      readEvent(2, { action: 'BREAK_GLASS', details: { reason: 'child at immediate risk, duty social worker' }, sensitivity: 'special-category', recordType: 'SocialCareCase' }),
      readEvent(3, { action: 'DENY', outcome: 'DENIED', ownerOrg: null, records: [{ recordType: 'PoliceNotification', recordId: null, fields: [], withheld: [], agreements: [] }] }),
      readEvent(4, { action: 'ADMIN', actorOrg: null, actorUser: null, actorRoles: [], nhsNumber: null, recordType: null, ownerOrg: null, purpose: null }),
    ];
    events = [];
    for (let n = 0; n < 40; n += 1) {
      clock.advance(3_600_000);
      events.push(...(await writer.append([inputs[n % 4] ?? readEvent(n)])));
    }
    await writer.close();
  });
  afterAll(async () => {
    await database.close();
  });

  it('ndjson: one line per event in seq order, each exactly as hashed, so the chain recomputes with any RFC 8785 library', async () => {
    const { text, count, progress } = await exported(database, 'ndjson', { pageSize: 16 });
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(count).toBe(41);
    expect(progress).toEqual([16, 32, 41]);
    expect(lines.map((l) => l.seq)).toEqual([1, ...events.map((e) => e.seq)]);
    let prevHash = GENESIS_HASH;
    for (const line of lines) {
      const { prevHash: linePrev, hash, ...hashed } = line as { prevHash: string; hash: string };
      expect(linePrev).toBe(prevHash);
      expect(createHash('sha256').update(prevHash + canonicalize(hashed)).digest('hex')).toBe(hash);
      prevHash = hash;
    }
    // The event of the earlier shape keeps its record columns and has no `records`.
    expect(lines[0]).toMatchObject({ recordType: 'HousingTenancy', recordId: 'rec-old', fields: ['tenancyRef'], details: { withheld: ['rentArrears'] } });
    expect(lines[0]).not.toHaveProperty('records');
    // Current events list their records and have no record columns.
    expect(lines[1]).toMatchObject({ records: events[0]?.records });
    expect((lines[1]?.records as unknown[]).length).toBe(2);
    expect(lines[1]).not.toHaveProperty('recordId');
    expect(lines[2]).toMatchObject({ action: 'BREAK_GLASS', details: { reason: 'child at immediate risk, duty social worker' }, at: '2026-03-01T11:00:00.000Z' });
  });

  it('csv: a header row, one row per record concerned, RFC 4180 quoting, and formulas defused', async () => {
    const { text, count } = await exported(database, 'csv');
    const rows = parseCsv(text);
    const header = rows[0] as string[];
    expect(header).toEqual([
      'seq', 'id', 'at', 'request_id', 'actor_org', 'actor_user', 'actor_roles', 'purpose', 'case_ref', 'action', 'owner_org', 'record_type', 'record_id',
      'nhs_number', 'fields', 'withheld', 'agreements', 'outcome', 'operation_name', 'query_hash', 'sensitivity', 'details', 'prev_hash', 'hash',
    ]);
    // 41 events: the earlier-shape one, and ten each of a two-record READ, a one-record
    // BREAK_GLASS, a DENY naming one type and an ADMIN event with no record.
    expect(count).toBe(41);
    expect(rows).toHaveLength(1 + 1 + 10 * (2 + 1 + 1 + 1));
    const col = (row: string[] | undefined, name: string) => row?.[header.indexOf(name)];
    const bySeq = (seq: number) => rows.slice(1).filter((row) => col(row, 'seq') === String(seq));

    const [legacy] = bySeq(1);
    expect([col(legacy, 'record_type'), col(legacy, 'record_id')]).toEqual(['HousingTenancy', 'rec-old']);
    expect(JSON.parse(col(legacy, 'fields') ?? '')).toEqual(['tenancyRef']);
    expect(JSON.parse(col(legacy, 'withheld') ?? '')).toEqual(['rentArrears']);

    // The two records of one event: one row each, the event's columns repeated.
    const read = bySeq(2);
    expect(read).toHaveLength(2);
    expect(read.map((row) => [col(row, 'record_type'), col(row, 'record_id')])).toEqual([['Demographics', 'rec-1'], ['SocialCareCase', 'case-1']]);
    expect(read.map((row) => col(row, 'hash'))).toEqual([events[0]?.hash, events[0]?.hash]);
    expect(col(read[0], 'case_ref')).toBe('line one\nline "two", three');
    // A spreadsheet would run this; the export makes it text.
    expect(col(read[0], 'actor_user')).toBe(`'${events[0]?.actorUser}`);
    expect(JSON.parse(col(read[0], 'fields') ?? '')).toEqual(['familyName', 'givenName']);
    expect(JSON.parse(col(read[0], 'withheld') ?? '')).toEqual([]);
    expect(JSON.parse(col(read[0], 'agreements') ?? '')).toEqual(events[0]?.records[0]?.agreements);
    expect(JSON.parse(col(read[1], 'withheld') ?? '')).toEqual(['summary']);
    expect(JSON.parse(col(read[1], 'agreements') ?? '')).toEqual([socialCare]);

    const [breakGlass] = bySeq(3);
    expect(JSON.parse(col(breakGlass, 'details') ?? '')).toEqual({ reason: 'child at immediate risk, duty social worker' });
    const [deny] = bySeq(4);
    expect([col(deny, 'record_type'), col(deny, 'record_id'), col(deny, 'owner_org')]).toEqual(['PoliceNotification', '', '']);
    // An event with no record is still one row, its record cells empty.
    const admin = bySeq(5);
    expect(admin).toHaveLength(1);
    expect(['actor_org', 'record_type', 'record_id', 'fields', 'withheld', 'agreements', 'details'].map((name) => col(admin[0], name))).toEqual(['', '', '', '', '', '', '']);
  });

  it('filters by [from, to)', async () => {
    const from = new Date('2026-03-01T14:00:00.000Z');
    const to = new Date('2026-03-01T18:00:00.000Z');
    const { text, count } = await exported(database, 'ndjson', { from, to });
    const seqs = text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(seqs).toEqual(events.filter((e) => e.at >= from && e.at < to).map((e) => e.seq));
    expect(count).toBe(4);
  });

  it('fhir: one collection Bundle of R5 AuditEvent resources, one per event, with one entity per record', async () => {
    const { text, count } = await exported(database, 'fhir', { pageSize: 7 });
    const bundle = JSON.parse(text) as { resourceType: string; type: string; timestamp: string; entry: { fullUrl: string; resource: Record<string, unknown> }[] };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry).toHaveLength(count);
    expect(count).toBe(41);
    const [legacy, read, breakGlass, deny, admin] = bundle.entry.map((e) => e.resource);
    expect(bundle.entry[1]?.fullUrl).toBe(`urn:uuid:${events[0]?.id}`);
    expect(read).toMatchObject({
      resourceType: 'AuditEvent',
      id: events[0]?.id,
      code: { coding: [{ system: fhirSystems.action, code: 'READ' }] },
      action: 'R',
      recorded: events[0]?.at.toISOString(),
      outcome: { code: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-outcome', code: '0' } },
      // Every agreement version that allowed any of its records, once each.
      authorization: [
        { coding: [{ system: fhirSystems.agreement, code: 'triborough-mash-children', version: '1' }] },
        { coding: [{ system: fhirSystems.agreement, code: 'triborough-social-care', version: '3' }] },
      ],
      patient: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' } },
      source: { observer: { identifier: { system: fhirSystems.hub, value: 'test-hub' } } },
    });
    expect(read?.agent).toEqual([
      expect.objectContaining({
        who: expect.objectContaining({ identifier: { system: `${fhirSystems.user}:westminster`, value: events[0]?.actorUser } }),
        role: [expect.objectContaining({ coding: [{ system: fhirSystems.role, code: 'social-worker' }] })],
        requestor: true,
        authorization: [expect.objectContaining({ coding: [{ system: fhirSystems.purpose, code: 'safeguarding-children' }] })],
        policy: [`${fhirSystems.agreement}:triborough-mash-children:1`, `${fhirSystems.agreement}:triborough-social-care:3`],
      }),
      expect.objectContaining({ who: expect.objectContaining({ identifier: { system: fhirSystems.organisation, value: 'westminster' } }) }),
    ]);
    const entities = read?.entity as { what: { identifier?: { system: string; value: string }; display?: string }; role: { coding: { code: string }[] }; securityLabel?: { text: string }[]; detail?: { type: { text: string }; valueString: string }[] }[];
    const records = entities.filter((e) => e.role.coding[0]?.code === '4');
    expect(records.map((e) => e.what.identifier)).toEqual([
      { system: fhirSystems.record, value: 'rec-1' },
      { system: fhirSystems.record, value: 'case-1' },
    ]);
    // Each record is labelled with its own type's class, not the event's most restricted one.
    expect(records.map((e) => e.securityLabel?.[0]?.text)).toEqual(['personal', 'special-category']);
    const detailOf = (entity: (typeof records)[number] | undefined, name: string) => entity?.detail?.find((d) => d.type.text === name)?.valueString;
    expect(detailOf(records[1], 'record type')).toBe('SocialCareCase');
    expect(detailOf(records[1], 'owner organisation')).toBe('kensington-chelsea');
    expect(detailOf(records[1], 'fields')).toBe('caseRef,status');
    expect(detailOf(records[1], 'withheld fields')).toBe('summary');
    expect(detailOf(records[1], 'agreements')).toBe('triborough-social-care:3');
    expect(entities.filter((e) => e.role.coding[0]?.code === '1')).toEqual([
      { what: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }, type: 'Patient' }, role: expect.anything() },
    ]);
    // The event of the earlier shape: its one record.
    expect((legacy?.entity as typeof entities).filter((e) => e.role.coding[0]?.code === '4').map((e) => e.what.identifier?.value)).toEqual(['rec-old']);
    expect(breakGlass).toMatchObject({ severity: 'alert', category: [{ coding: [{ code: '110113' }] }] });
    expect(deny).toMatchObject({ outcome: { code: { code: '4' }, detail: [{ text: 'DENIED' }] } });
    expect(deny).not.toHaveProperty('authorization');
    // A DENY's entity names the record type asked for, and no record.
    expect((deny?.entity as typeof entities).filter((e) => e.role.coding[0]?.code === '4')).toEqual([
      expect.objectContaining({ what: { display: 'PoliceNotification' }, securityLabel: [{ text: 'criminal-offence' }] }),
    ]);
    // An event with no actor is attributed to the hub itself (agent is 1..*).
    expect(admin?.agent).toEqual([expect.objectContaining({ who: expect.objectContaining({ identifier: { system: fhirSystems.hub, value: 'test-hub' } }) })]);
    expect(admin).not.toHaveProperty('patient');
    expect((admin?.entity as typeof entities | undefined)?.filter((e) => e.role.coding[0]?.code === '4') ?? []).toEqual([]);
    const chain = (read?.extension as { url: string; extension: { url: string; valueString?: string }[] }[])[0];
    expect(chain?.extension.find((x) => x.url === 'hash')?.valueString).toBe(events[0]?.hash);
  });

  it('an empty range still writes a valid (empty) Bundle and a CSV header', async () => {
    const from = new Date('2030-01-01T00:00:00Z');
    expect(JSON.parse((await exported(database, 'fhir', { from })).text)).toMatchObject({ resourceType: 'Bundle', entry: [] });
    expect((await exported(database, 'csv', { from })).text.split('\r\n')).toHaveLength(2);
  });

  it('stops reading while the destination is full, and resumes when it drains', async () => {
    const held: (() => void)[] = [];
    const sink = new Writable({ highWaterMark: 1024, write: (_chunk, _encoding, done) => held.push(done) });
    const progress: number[] = [];
    let finished = false;
    const running = exportAuditEvents(database.db, { format: 'ndjson', out: sink, pageSize: 5, onProgress: (n) => progress.push(n) }).then((r) => {
      finished = true;
      return r;
    });
    await sleep(300);
    // The first page filled the stream; no further page is read until it drains.
    expect(progress).toEqual([5]);
    expect(finished).toBe(false);
    while (!finished) {
      held.splice(0).forEach((done) => done());
      await sleep(5);
    }
    expect(await running).toEqual({ count: 41 });
    expect(progress).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 41]);
  });
});
