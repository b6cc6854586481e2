/**
 * The audit trail end to end over HTTP (CONTRACT §7, issue 4): what a read writes, who may read
 * the trail, "no audit, no data" with the audit write failing for real, one gapless chain across
 * two hub instances, and checkpoints a partner verifies with the published JWKS.
 */
import { createHash } from 'node:crypto';
import { gt, sql } from 'drizzle-orm';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAgreement, signRevocation, type AgreementEnvelope } from '../../src/agreements/index.js';
import { keyedQueryHash, storedEventOfRow, verifyChain, type StoredAuditEvent } from '../../src/audit/index.js';
import { rowsOf, type Db } from '../../src/db/index.js';
import { auditEvents } from '../../src/db/tables.js';
import { makeOrg, type TestOrg } from '../helpers/keys.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { startTestHub, type GraphQLResponse, type TestHub } from '../helpers/test-hub.js';

const [child, other] = validNhsNumbers(2, 11);
const breakGlassReason = 'Child at immediate risk, out of hours, duty manager approved';

const agreementDocument = {
  type: 'accord.isa/v1',
  id: 'triborough-mash-children',
  version: 1,
  title: 'Tri-borough MASH: children',
  provider: 'kensington-chelsea',
  recipients: [{ org: 'westminster', roles: ['social-worker', 'safeguarding-lead'] }],
  purposes: [{ code: 'safeguarding-children', description: 'Assess risk of significant harm' }],
  lawfulBasis: { article6: 'public-task', article9: 'substantial-public-interest', legislation: ['Children Act 1989 s47'] },
  dataSubjects: ['children'],
  scope: [
    { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth'] },
    { recordType: 'SocialCareCase', fields: ['caseRef', 'service', 'status', 'leadWorker'], where: { field: 'service', op: 'eq', value: 'CHILDREN' } },
  ],
  breakGlass: { allowed: true, roles: ['safeguarding-lead'] },
  validFrom: '2026-01-01T00:00:00Z',
  validUntil: '2030-12-31T23:59:59Z',
  reviewBy: '2030-06-30',
  retention: 'P2Y',
};

const lookup = `query Lookup($n: NHSNumber!) {
  subject(nhsNumber: $n) {
    demographics { givenName familyName dateOfBirth postcode }
    socialCareCases { caseRef service status leadWorker summary }
  }
}`;
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

const eventFields = `seq id at requestId actorOrg actorUser actorRoles purpose caseRef action ownerOrg nhsNumber
  records { recordType recordId fields withheld agreements { id version payloadHash } } outcome operationName queryHash sensitivity details prevHash hash`;
const auditPage = `query Audit($filter: AuditFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) { edges { cursor node { ${eventFields} } } pageInfo { hasNextPage endCursor } }
}`;

interface EventNode {
  readonly seq: string;
  readonly action: string;
  readonly actorOrg: string | null;
  readonly ownerOrg: string | null;
  readonly nhsNumber: string | null;
  readonly details: Record<string, unknown> | null;
  readonly [key: string]: unknown;
}
type Page = { edges: { cursor: string; node: EventNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

async function headSeq(db: Db): Promise<number> {
  return rowsOf<{ seq: number | null }>(await db.execute(sql`select max(seq)::float8 as seq from audit_events`))[0]?.seq ?? 0;
}

async function eventsAfter(db: Db, seq: number): Promise<StoredAuditEvent[]> {
  return (await db.select().from(auditEvents).where(gt(auditEvents.seq, seq)).orderBy(auditEvents.seq)).map(storedEventOfRow);
}

function pageOf(response: GraphQLResponse): Page {
  expect(response.body.errors).toBeUndefined();
  return response.body.data?.auditEvents as Page;
}

describe('the audit trail over HTTP', { timeout: 120_000 }, () => {
  let hub: TestHub;
  let db: Db;
  let kc: TestOrg;
  let westminster: TestOrg;
  let camden: TestOrg;
  let operator: TestOrg;
  let envelope: AgreementEnvelope;
  const records: Record<string, string> = {};

  const dpoOf = (org: TestOrg) => org.token({ roles: ['dpo'], purpose: 'audit' });

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_CHECKPOINT_EVERY_EVENTS: '5' } });
    db = hub.database.db;
    kc = await makeOrg(db, 'kensington-chelsea');
    westminster = await makeOrg(db, 'westminster', { alg: 'ES256' });
    camden = await makeOrg(db, 'camden');
    operator = await makeOrg(db, 'hub', { kind: 'OTHER' });
    const published = await hub.gql(await kc.token(), `mutation P($input: PublishRecordsInput!) { publishRecords(input: $input) { count } }`, {
      input: {
        demographics: [{ externalId: 'kc-d-1', nhsNumber: child, givenName: 'Sam', familyName: 'Synthetic', dateOfBirth: '2016-05-04', postcode: 'SW3 1AA' }],
        socialCareCases: [
          { externalId: 'kc-c-1', nhsNumber: child, caseRef: 'KC-CH-1', service: 'CHILDREN', status: 'OPEN', leadWorker: 'A Worker', summary: 'CANARY-child-summary' },
          { externalId: 'kc-c-2', nhsNumber: child, caseRef: 'KC-AD-1', service: 'ADULTS', status: 'OPEN', leadWorker: 'B Worker', summary: 'CANARY-adult-summary' },
        ],
      },
    });
    expect(published.body.errors).toBeUndefined();
    for (const row of rowsOf<{ id: string; external_id: string }>(await db.execute(sql`
      select id, external_id from demographics union all select id, external_id from social_care_cases`))) {
      records[row.external_id] = row.id;
    }
    envelope = await signAgreement({ document: agreementDocument, org: kc.id, privateJwk: kc.privateJwk });
    envelope = await signAgreement({ document: agreementDocument, envelope, org: westminster.id, privateJwk: westminster.privateJwk });
    const submitted = await hub.gql(await kc.token(), `mutation S($e: JSON!) { submitAgreement(envelope: $e) { status } }`, { e: envelope });
    expect(submitted.body.data).toEqual({ submitAgreement: { status: 'ACTIVE' } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('a read writes one READ event per disclosure, listing each record with its released and withheld fields and the agreement', async () => {
    const before = await headSeq(db);
    const response = await hub.gql(await westminster.token({ case_ref: 'WCC-42' }), lookup, { n: child });
    expect(response.body.data).toEqual({
      subject: {
        demographics: [{ givenName: 'Sam', familyName: 'Synthetic', dateOfBirth: '2016-05-04', postcode: null }],
        socialCareCases: [{ caseRef: 'KC-CH-1', service: 'CHILDREN', status: 'OPEN', leadWorker: 'A Worker', summary: null }],
      },
    });
    const events = await eventsAfter(db, before);
    const agreement = { id: 'triborough-mash-children', version: 1, payloadHash: sha256(Buffer.from(envelope.payload, 'base64url')) };
    // One request about one person held by one organisation: one event (CONTRACT §7), its two
    // records listed in type order.
    expect(events).toEqual([
      expect.objectContaining({
        seq: before + 1,
        action: 'READ',
        outcome: 'SUCCESS',
        actorOrg: 'westminster',
        actorUser: 'user@westminster',
        actorRoles: ['social-worker'],
        purpose: 'safeguarding-children',
        caseRef: 'WCC-42',
        ownerOrg: 'kensington-chelsea',
        nhsNumber: child,
        operationName: 'Lookup',
        // Keyed under the hub's key (CONTRACT §7); test/security/query-hash.test.ts derives it independently.
        queryHash: keyedQueryHash(hub.app.services.hubKey.queryHashKey, lookup),
        // The most restricted class among its records.
        sensitivity: 'special-category',
        details: null,
        records: [
          { recordType: 'Demographics', recordId: records['kc-d-1'], fields: ['dateOfBirth', 'familyName', 'givenName'], withheld: ['postcode'], agreements: [agreement] },
          { recordType: 'SocialCareCase', recordId: records['kc-c-1'], fields: ['caseRef', 'leadWorker', 'service', 'status'], withheld: ['summary'], agreements: [agreement] },
        ],
      }),
    ]);
    // The adult-services case the condition excludes is neither released nor mentioned.
    expect(JSON.stringify(events)).not.toContain(records['kc-c-2']);
  });

  it('a record listed with only __typename selected is still a release: one READ event listing it with no fields', async () => {
    const before = await headSeq(db);
    const response = await hub.gql(await westminster.token(), `query Probe($n: NHSNumber!) { subject(nhsNumber: $n) { socialCareCases { __typename } } }`, { n: child });
    expect(response.body.data).toEqual({ subject: { socialCareCases: [{ __typename: 'SocialCareCase' }] } });
    const events = await eventsAfter(db, before);
    expect(events).toEqual([
      expect.objectContaining({ action: 'READ', actorOrg: 'westminster', ownerOrg: 'kensington-chelsea', nhsNumber: child, records: [expect.objectContaining({ recordType: 'SocialCareCase', recordId: records['kc-c-1'], fields: [] })] }),
    ]);
  });

  it('a requested record type with no agreement writes a DENY event that stores nothing the caller did not get', async () => {
    const before = await headSeq(db);
    const response = await hub.gql(await westminster.token(), `query Police($n: NHSNumber!) { subject(nhsNumber: $n) { policeNotifications { reference } } }`, { n: child });
    expect(response.body.data).toEqual({ subject: { policeNotifications: [] } });
    const events = await eventsAfter(db, before);
    expect(events).toEqual([
      expect.objectContaining({
        action: 'DENY',
        outcome: 'DENIED',
        actorOrg: 'westminster',
        nhsNumber: child,
        ownerOrg: null,
        records: [{ recordType: 'PoliceNotification', recordId: null, fields: [], withheld: [], agreements: [] }],
      }),
    ]);
    const camdenRead = await hub.gql(await camden.token(), lookup, { n: child });
    expect(camdenRead.body.data).toEqual({ subject: { demographics: [], socialCareCases: [] } });
    // One DENY event for the request and the person, naming both types asked for, no owner, no id.
    const denied = (await eventsAfter(db, before)).filter((e) => e.actorOrg === 'camden');
    expect(denied.map((e) => [e.action, e.ownerOrg, e.records.map((r) => [r.recordType, r.recordId])])).toEqual([
      ['DENY', null, [['Demographics', null], ['SocialCareCase', null]]],
    ]);
  });

  it('a break-glass read writes a BREAK_GLASS event with the reason, listing what break-glass released', async () => {
    const before = await headSeq(db);
    const token = await westminster.token({ roles: ['safeguarding-lead'], purpose: 'emergency', break_glass: { reason: breakGlassReason } });
    const response = await hub.gql(token, `query G($n: NHSNumber!) { subject(nhsNumber: $n) { socialCareCases { caseRef service } } }`, { n: child });
    expect(response.body.data).toEqual({ subject: { socialCareCases: expect.arrayContaining([{ caseRef: 'KC-AD-1', service: 'ADULTS' }]) as unknown } });
    const events = await eventsAfter(db, before);
    const breakGlass = events.filter((e) => e.action === 'BREAK_GLASS');
    expect(breakGlass).toHaveLength(1);
    expect(breakGlass[0]).toMatchObject({ outcome: 'SUCCESS', purpose: 'emergency', ownerOrg: 'kensington-chelsea', details: { breakGlassReason } });
    expect(breakGlass[0]?.records.find((r) => r.recordId === records['kc-c-2'])).toMatchObject({ recordType: 'SocialCareCase', fields: ['caseRef', 'service'] });
  });

  it('a DPO reads only events where their organisation is actor or owner; the hub operator reads all', async () => {
    const all: EventNode[] = [];
    for (let after: string | undefined, more = true; more; ) {
      const page = pageOf(await hub.gql(await operator.token({ roles: ['hub-admin'], purpose: 'audit' }), auditPage, { first: 500, ...(after === undefined ? {} : { after }) }));
      all.push(...page.edges.map((e) => e.node));
      more = page.pageInfo.hasNextPage;
      after = page.pageInfo.endCursor ?? undefined;
    }
    expect(all.some((e) => e.actorOrg === 'camden')).toBe(true);
    expect(all.map((e) => Number(e.seq))).toEqual(all.map((_, i) => i + 1));

    const kcPage = pageOf(await hub.gql(await dpoOf(kc), auditPage, { first: 500 }));
    const kcEvents = kcPage.edges.map((e) => e.node);
    expect(kcEvents.length).toBeGreaterThan(0);
    expect(kcEvents.every((e) => e.actorOrg === 'kensington-chelsea' || e.ownerOrg === 'kensington-chelsea')).toBe(true);
    expect(kcEvents.some((e) => e.actorOrg === 'westminster' && e.action === 'READ')).toBe(true);
    const expected = all.filter((e) => Number(e.seq) <= Number(kcEvents.at(-1)?.seq) && (e.actorOrg === 'kensington-chelsea' || e.ownerOrg === 'kensington-chelsea'));
    expect(kcEvents.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));

    const camdenEvents = pageOf(await hub.gql(await dpoOf(camden), auditPage, { first: 500 })).edges.map((e) => e.node);
    expect(camdenEvents.length).toBeGreaterThan(0);
    expect(camdenEvents.every((e) => e.actorOrg === 'camden' || e.ownerOrg === 'camden')).toBe(true);
    // Even filtering on another organisation's events returns nothing beyond the DPO's own scope.
    const filtered = pageOf(await hub.gql(await dpoOf(camden), auditPage, { filter: { actorOrg: 'westminster' } }));
    expect(filtered.edges).toEqual([]);
  });

  it('pages with opaque cursors and filters by action, subject and agreement', async () => {
    const token = () => dpoOf(kc);
    const everything = pageOf(await hub.gql(await token(), auditPage, { first: 500 })).edges.map((e) => e.node.seq);
    const paged: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = pageOf(await hub.gql(await token(), auditPage, { first: 2, ...(after === null ? {} : { after }) }));
      expect(page.edges.length).toBeLessThanOrEqual(2);
      paged.push(...page.edges.map((e) => e.node.seq));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages += 1;
    } while (after !== null && pages < 200);
    // Reading the audit writes ADMIN events as we go, so compare with the events that existed at the start.
    expect(paged.slice(0, everything.length)).toEqual(everything);

    const breakGlass = pageOf(await hub.gql(await token(), auditPage, { filter: { action: 'BREAK_GLASS' } })).edges.map((e) => e.node);
    expect(breakGlass.length).toBeGreaterThan(0);
    expect(breakGlass.every((e) => e.action === 'BREAK_GLASS')).toBe(true);
    const byAgreement = pageOf(await hub.gql(await token(), auditPage, { filter: { agreementId: 'triborough-mash-children', nhsNumber: child } })).edges.map((e) => e.node);
    expect(byAgreement.length).toBeGreaterThanOrEqual(2);
    expect(
      byAgreement.every((e) => (e.records as { agreements: { id: string }[] }[]).some((r) => r.agreements.some((a) => a.id === 'triborough-mash-children')) && e.nhsNumber === child),
    ).toBe(true);
    // By record id: exactly the events listing that record.
    const byRecord = pageOf(await hub.gql(await token(), auditPage, { filter: { recordId: records['kc-c-2'] } })).edges.map((e) => e.node);
    expect(byRecord.length).toBeGreaterThan(0);
    expect(byRecord.every((e) => (e.records as { recordId: string | null }[]).some((r) => r.recordId === records['kc-c-2']))).toBe(true);
    const none = pageOf(await hub.gql(await token(), auditPage, { filter: { nhsNumber: other } }));
    expect(none).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it.each([
    ['a malformed cursor', { after: 'not-a-cursor' }],
    ['a cursor that is not base64url of a seq', { after: Buffer.from('audit:minus-one').toString('base64url') }],
    ['more than 500 a page', { first: 501 }],
    ['a zero page size', { first: 0 }],
  ])('refuses %s with BAD_USER_INPUT', async (_, variables) => {
    const response = await hub.gql(await dpoOf(kc), auditPage, variables);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.body.data ?? null).toBeNull();
  });

  it.each([
    ['auditEvents', `{ auditEvents { edges { cursor } } }`],
    ['subjectAccessReport', `{ subjectAccessReport(nhsNumber: "${child}") { seq } }`],
    ['auditIntegrity', `{ auditIntegrity { intact } }`],
  ])('%s is FORBIDDEN without the dpo role (and to a hub-admin role outside the hub)', async (_, query) => {
    for (const token of [await westminster.token(), await kc.token({ roles: ['hub-admin'] })]) {
      const response = await hub.gql(token, query);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(response.body.data ?? null).toBeNull();
    }
  });

  it('a subject access report lists every event about the person the DPO may see, in seq order, and is itself audited', async () => {
    const before = await headSeq(db);
    const response = await hub.gql(await dpoOf(kc), `query SAR($n: NHSNumber!) { subjectAccessReport(nhsNumber: $n) { ${eventFields} } }`, { n: child });
    expect(response.body.errors).toBeUndefined();
    const report = response.body.data?.subjectAccessReport as EventNode[];
    const expected = rowsOf<{ seq: string }>(
      await db.execute(sql`select seq::text as seq from audit_events where nhs_number = ${child} and seq <= ${before}
        and (actor_org = 'kensington-chelsea' or owner_org = 'kensington-chelsea') order by audit_events.seq`),
    ).map((r) => r.seq);
    expect(report.map((e) => e.seq)).toEqual(expected);
    expect(report.map((e) => e.action)).toEqual(expect.arrayContaining(['READ', 'BREAK_GLASS']));
    expect(report.every((e) => e.actorOrg !== 'camden')).toBe(true);
    const admin = await eventsAfter(db, before);
    expect(admin).toEqual([
      expect.objectContaining({ action: 'ADMIN', actorOrg: 'kensington-chelsea', actorRoles: ['dpo'], nhsNumber: child, details: expect.objectContaining({ operation: 'subjectAccessReport' }) as unknown }),
    ]);
  });

  it('reading audit events is itself audited as ADMIN', async () => {
    const before = await headSeq(db);
    pageOf(await hub.gql(await dpoOf(westminster), auditPage, { filter: { action: 'READ' }, first: 10 }));
    expect(await eventsAfter(db, before)).toEqual([
      expect.objectContaining({ action: 'ADMIN', outcome: 'SUCCESS', actorOrg: 'westminster', details: expect.objectContaining({ operation: 'auditEvents' }) as unknown }),
    ]);
  });

  it('auditIntegrity reports the head, the last signed checkpoint and how far the chain is verified', async () => {
    const response = await hub.gql(await dpoOf(kc), `{ auditIntegrity { headSeq headHash verifiedUpTo intact problem lastCheckpoint { seq hash kid jws } } }`);
    expect(response.body.errors).toBeUndefined();
    const integrity = response.body.data?.auditIntegrity as { headSeq: string; headHash: string; verifiedUpTo: string; intact: boolean; problem: string | null; lastCheckpoint: { seq: string; hash: string } };
    expect(integrity).toMatchObject({ intact: true, problem: null });
    expect(Number(integrity.headSeq)).toBeGreaterThan(5);
    expect(Number(integrity.verifiedUpTo)).toBeGreaterThan(0);
    expect(Number(integrity.verifiedUpTo)).toBeLessThanOrEqual(Number(integrity.headSeq));
    const [atCheckpoint] = rowsOf<{ hash: string }>(await db.execute(sql`select hash from audit_events where seq = ${Number(integrity.lastCheckpoint.seq)}`));
    expect(integrity.lastCheckpoint.hash).toBe(atCheckpoint?.hash);
  });

  it('no audit, no data: when the audit write fails the caller gets 503 AUDIT_UNAVAILABLE and no record data; then it recovers', async () => {
    const before = await headSeq(db);
    await db.execute(sql`create function accord_test_audit_down() returns trigger language plpgsql as $$
      begin raise exception 'audit storage unavailable (test)'; end $$`);
    await db.execute(sql`create trigger accord_test_audit_down before insert on audit_events for each row execute function accord_test_audit_down()`);
    try {
      const response = await hub.gql(await westminster.token(), lookup, { n: child });
      expect(response.status).toBe(503);
      expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['AUDIT_UNAVAILABLE']);
      expect(response.body.data ?? null).toBeNull();
      for (const secret of ['Sam', 'Synthetic', '2016-05-04', 'KC-CH-1', 'A Worker', 'audit storage unavailable']) expect(response.text).not.toContain(secret);
      // Nothing else that needs an audit event gets through either.
      const denied = await hub.gql(await camden.token(), lookup, { n: child });
      expect(denied.status).toBe(503);
      // A publish and a revocation roll back with their events: no write without its audit event.
      const publish = await hub.gql(await kc.token(), `mutation P($input: PublishRecordsInput!) { publishRecords(input: $input) { count } }`, {
        input: { demographics: [{ externalId: 'kc-d-unaudited', nhsNumber: child, givenName: 'Never', familyName: 'Written' }] },
      });
      expect(publish.status).toBe(503);
      expect(publish.body.errors?.map((e) => e.extensions?.code)).toEqual(['AUDIT_UNAVAILABLE']);
      expect(rowsOf(await db.execute(sql`select 1 from demographics where external_id = 'kc-d-unaudited'`))).toHaveLength(0);
      const revocation = await signRevocation({ agreement: agreementDocument.id, version: agreementDocument.version, reason: 'test', at: new Date(), org: kc.id, privateJwk: kc.privateJwk });
      const revoke = await hub.gql(await kc.token(), `mutation R($r: String!) { revokeAgreement(revocation: $r) { status } }`, { r: revocation });
      expect(revoke.status).toBe(503);
      expect(revoke.body.data ?? null).toBeNull();
      expect(rowsOf(await db.execute(sql`select 1 from agreements where revoked_at is not null`))).toHaveLength(0);
    } finally {
      await db.execute(sql`drop trigger accord_test_audit_down on audit_events`);
      await db.execute(sql`drop function accord_test_audit_down()`);
    }
    expect(await headSeq(db)).toBe(before);
    const again = await hub.gql(await westminster.token(), lookup, { n: child });
    expect(again.status).toBe(200);
    expect((again.body.data?.subject as { demographics: unknown[] }).demographics).toHaveLength(1);
    expect((await eventsAfter(db, before)).map((e) => e.seq)).toEqual([before + 1]);
  });

  it('two hub instances under concurrent requests keep one gapless chain that verifies', async () => {
    const second = await hub.startSecondInstance();
    const before = await headSeq(db);
    const requests = 40;
    const responses = await Promise.all(
      Array.from({ length: requests }, async (_, i) => (i % 2 === 0 ? hub.gql : second.gql)(await westminster.token(), lookup, { n: child })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: requests }, () => 200));
    const events = await eventsAfter(db, before);
    // One event per request (one person, one owner), one gapless chain.
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: requests }, (_, i) => before + i + 1));
    expect(new Set(events.map((e) => e.requestId)).size).toBe(requests);
    const verified = await verifyChain(db);
    expect(verified).toMatchObject({ intact: true, headSeq: before + requests, checked: before + requests });
  });

  it('GET /audit/checkpoints and GET /.well-known/jwks.json verify together against the chain', async () => {
    const jwks = (await (await fetch(`${hub.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    const { checkpoints } = (await (await fetch(`${hub.url}/audit/checkpoints`)).json()) as { checkpoints: { seq: number; hash: string; at: string; kid: string; jws: string }[] };
    expect(checkpoints.length).toBeGreaterThan(1);
    const keySet = createLocalJWKSet(jwks);
    for (const checkpoint of checkpoints) {
      const { payload, protectedHeader } = await compactVerify(checkpoint.jws, keySet, { algorithms: ['EdDSA'] });
      expect(protectedHeader.kid).toBe(checkpoint.kid);
      const signed = JSON.parse(new TextDecoder().decode(payload)) as { seq: number; hash: string; at: string };
      expect(signed).toEqual({ seq: Number(checkpoint.seq), hash: checkpoint.hash, at: new Date(checkpoint.at).toISOString() });
      const [row] = rowsOf<{ hash: string }>(await db.execute(sql`select hash from audit_events where seq = ${signed.seq}`));
      expect(row?.hash).toBe(signed.hash);
    }
  });
});
