import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditWriter, exportAuditEvents, fhirSystems, GENESIS_HASH, hashEvent, type AuditExportFormat, type StoredAuditEvent } from '../../src/audit/index.js';
import { fixedClock } from '../../src/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { readEvent } from './helpers.js';

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
  let events: StoredAuditEvent[];

  beforeAll(async () => {
    database = await createTestDatabase();
    const writer = createAuditWriter(database.db, { clock });
    const inputs = [
      readEvent(1, { actorUser: '=HYPERLINK("http://evil.example","click")', caseRef: 'line one\nline "two", three' }),
      readEvent(2, { action: 'BREAK_GLASS', details: { reason: 'child at immediate risk, duty social worker' }, sensitivity: 'special-category', recordType: 'SocialCareCase' }),
      readEvent(3, { action: 'DENY', outcome: 'DENIED', fields: [], agreements: [], recordId: null, recordType: 'PoliceNotification' }),
      readEvent(4, { action: 'ADMIN', actorOrg: null, actorUser: null, actorRoles: [], nhsNumber: null, recordType: null, recordId: null, ownerOrg: null, agreements: [], fields: [], purpose: null }),
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

  it('ndjson: one line per event in seq order, from which the chain can be recomputed', async () => {
    const { text, count, progress } = await exported(database, 'ndjson', { pageSize: 16 });
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(count).toBe(40);
    expect(progress).toEqual([16, 32, 40]);
    expect(lines.map((l) => l.seq)).toEqual(events.map((e) => e.seq));
    let prevHash = GENESIS_HASH;
    for (const line of lines) {
      const { prevHash: linePrev, hash, at, ...rest } = line as { prevHash: string; hash: string; at: string };
      expect(linePrev).toBe(prevHash);
      expect(hashEvent(prevHash, { ...(rest as unknown as StoredAuditEvent), at: new Date(at) })).toBe(hash);
      prevHash = hash;
    }
    expect(lines[1]).toMatchObject({ action: 'BREAK_GLASS', details: { reason: 'child at immediate risk, duty social worker' }, at: '2026-03-01T11:00:00.000Z' });
  });

  it('csv: a header row, RFC 4180 quoting, and formulas defused', async () => {
    const { text } = await exported(database, 'csv');
    const rows = parseCsv(text);
    const header = rows[0] as string[];
    expect(header.slice(0, 4)).toEqual(['seq', 'id', 'at', 'request_id']);
    expect(rows).toHaveLength(41);
    const col = (row: string[] | undefined, name: string) => row?.[header.indexOf(name)];
    const first = rows[1];
    expect(col(first, 'seq')).toBe('1');
    expect(col(first, 'case_ref')).toBe('line one\nline "two", three');
    // A spreadsheet would run this; the export makes it text.
    expect(col(first, 'actor_user')).toBe(`'${events[0]?.actorUser}`);
    expect(JSON.parse(col(first, 'fields') ?? '')).toEqual(['givenName', 'familyName']);
    expect(JSON.parse(col(first, 'agreements') ?? '')).toEqual(events[0]?.agreements);
    expect(col(first, 'hash')).toBe(events[0]?.hash);
    expect(col(rows[4], 'actor_org')).toBe('');
    expect(col(rows[4], 'details')).toBe('');
    expect(JSON.parse(col(rows[2], 'details') ?? '')).toEqual({ reason: 'child at immediate risk, duty social worker' });
  });

  it('filters by [from, to)', async () => {
    const from = new Date('2026-03-01T14:00:00.000Z');
    const to = new Date('2026-03-01T18:00:00.000Z');
    const { text, count } = await exported(database, 'ndjson', { from, to });
    const seqs = text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(seqs).toEqual(events.filter((e) => e.at >= from && e.at < to).map((e) => e.seq));
    expect(count).toBe(4);
  });

  it('fhir: one collection Bundle of R5 AuditEvent resources', async () => {
    const { text, count } = await exported(database, 'fhir', { pageSize: 7 });
    const bundle = JSON.parse(text) as { resourceType: string; type: string; timestamp: string; entry: { fullUrl: string; resource: Record<string, unknown> }[] };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry).toHaveLength(count);
    expect(count).toBe(40);
    const [read, breakGlass, deny, admin] = bundle.entry.map((e) => e.resource);
    expect(bundle.entry[0]?.fullUrl).toBe(`urn:uuid:${events[0]?.id}`);
    expect(read).toMatchObject({
      resourceType: 'AuditEvent',
      id: events[0]?.id,
      code: { coding: [{ system: fhirSystems.action, code: 'READ' }] },
      action: 'R',
      recorded: events[0]?.at.toISOString(),
      outcome: { code: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-outcome', code: '0' } },
      authorization: [{ coding: [{ system: fhirSystems.agreement, code: 'triborough-mash-children', version: '1' }] }],
      patient: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' } },
      source: { observer: { identifier: { system: fhirSystems.hub, value: 'test-hub' } } },
    });
    expect(read?.agent).toEqual([
      expect.objectContaining({
        who: expect.objectContaining({ identifier: { system: `${fhirSystems.user}:westminster`, value: events[0]?.actorUser } }),
        role: [expect.objectContaining({ coding: [{ system: fhirSystems.role, code: 'social-worker' }] })],
        requestor: true,
        authorization: [expect.objectContaining({ coding: [{ system: fhirSystems.purpose, code: 'safeguarding-children' }] })],
      }),
      expect.objectContaining({ who: expect.objectContaining({ identifier: { system: fhirSystems.organisation, value: 'westminster' } }) }),
    ]);
    expect(read?.entity).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ what: expect.objectContaining({ identifier: { system: fhirSystems.record, value: 'rec-1' } }) }),
        expect.objectContaining({ what: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }, type: 'Patient' } }),
      ]),
    );
    expect(breakGlass).toMatchObject({ severity: 'alert', category: [{ coding: [{ code: '110113' }] }] });
    expect(deny).toMatchObject({ outcome: { code: { code: '4' }, detail: [{ text: 'DENIED' }] } });
    expect(deny).not.toHaveProperty('authorization');
    // An event with no actor is attributed to the hub itself (agent is 1..*).
    expect(admin?.agent).toEqual([expect.objectContaining({ who: expect.objectContaining({ identifier: { system: fhirSystems.hub, value: 'test-hub' } }) })]);
    expect(admin).not.toHaveProperty('patient');
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
    expect(await running).toEqual({ count: 40 });
    expect(progress).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
  });
});
