/**
 * What the one-round-trip commit must keep (issue 11), under concurrency and across two hub
 * instances on one database (on PostgreSQL each with its own pool): no audit, no data; a replayed
 * token gets 401, no data and no events; a revocation holds at the next request on every instance.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRevocation } from '../../src/agreements/index.js';
import { verifyChain } from '../../src/audit/index.js';
import { generateSigningKey, replaceOrganisationKeys } from '../../src/auth/index.js';
import { rowsOf } from '../../src/db/index.js';
import { startTestHub, type GraphQLResponse, type TestHub } from '../helpers/test-hub.js';
import { agreementId, canaryRecords, child, everythingQuery, expectRefused, publishMutation, setUpPartnership, sharedView, type Partnership } from './fixtures.js';

type Gql = TestHub['gql'];

async function eventsOfRequests(hub: TestHub, requestIds: readonly string[]): Promise<number> {
  if (requestIds.length === 0) return 0;
  const rows = rowsOf<{ n: number }>(
    await hub.database.db.execute(sql`select count(*)::int as n from audit_events where request_id in (${sql.join(requestIds.map((id) => sql`${id}`), sql`, `)})`),
  );
  return Number(rows[0]?.n ?? 0);
}

function requestIdOf(response: GraphQLResponse): string {
  const id = response.headers.get('x-request-id');
  if (id === null) throw new Error('response has no x-request-id');
  return id;
}

describe('security corpus: commit guarantees under concurrency', () => {
  let hub: TestHub;
  let p: Partnership;
  let instances: Gql[];

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub);
    instances = [hub.gql, (await hub.startSecondInstance()).gql];
  });
  afterAll(async () => {
    if (hub !== undefined) expect((await verifyChain(hub.database.db)).intact).toBe(true);
    await hub?.stop();
  });

  const read = async (instance: Gql, token?: string): Promise<GraphQLResponse> => instance(token ?? (await p.westminster.token()), everythingQuery, { n: child });

  it('answers concurrent reads on both instances, each delivered response with its events committed', async () => {
    const responses = await Promise.all(Array.from({ length: 24 }, (_, i) => read(instances[i % 2] as Gql)));
    for (const response of responses) expect(response.body.data).toEqual(sharedView);
    // Two events per request, however many records: one READ (one subject, one owner,
    // kensington-chelsea) and one DENY naming the four record types no agreement shares.
    const ids = responses.map(requestIdOf);
    expect(await eventsOfRequests(hub, ids)).toBe(2 * ids.length);
  });

  it('refuses a token replayed concurrently on both instances: one answer with data, the rest 401 with nothing audited', async () => {
    const token = await p.westminster.token();
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => read(instances[i % 2] as Gql, token)));
    const accepted = responses.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.body.data).toEqual(sharedView);
    const refused = responses.filter((r) => r.status !== 200);
    for (const response of refused) expectRefused(response, 401, 'UNAUTHENTICATED', p.canary, /already been used/);
    expect(await eventsOfRequests(hub, refused.map(requestIdOf))).toBe(0);
    expect(await eventsOfRequests(hub, accepted.map(requestIdOf))).toBe(2);
  });

  it('no audit, no data: concurrent reads on both instances while the audit cannot be written all get 503 and nothing', async () => {
    await hub.database.db.execute(sql`create function accord_test_commit_down() returns trigger language plpgsql as $$
      begin raise exception 'audit storage unavailable (test)'; end $$`);
    await hub.database.db.execute(sql`create trigger accord_test_commit_down before insert on audit_events for each row execute function accord_test_commit_down()`);
    let responses: GraphQLResponse[];
    try {
      responses = await Promise.all(Array.from({ length: 16 }, (_, i) => read(instances[i % 2] as Gql)));
    } finally {
      await hub.database.db.execute(sql`drop trigger accord_test_commit_down on audit_events`);
      await hub.database.db.execute(sql`drop function accord_test_commit_down()`);
    }
    for (const response of responses) {
      expectRefused(response, 503, 'AUDIT_UNAVAILABLE', p.canary);
      expect(response.text).not.toContain('Sam');
      expect(response.text).not.toContain('KC-CH-1');
      expect(response.text).not.toContain('audit storage unavailable');
    }
    expect(await eventsOfRequests(hub, responses.map(requestIdOf))).toBe(0);
    // Nothing was claimed either: the audit is back and the next reads are answered.
    expect((await read(instances[1] as Gql)).body.data).toEqual(sharedView);
  });

  it('holds a revocation made on one instance at the next request on both, under concurrent load', async () => {
    let stop = false;
    const inFlight: Promise<{ startedAt: number; response: GraphQLResponse }>[] = [];
    const starts: number[] = [];
    const countStartedAfter = (at: number): number => starts.filter((t) => t > at).length;
    const load = async (instance: Gql): Promise<void> => {
      while (!stop) {
        const startedAt = Date.now();
        starts.push(startedAt);
        const pending = read(instance).then((response) => ({ startedAt, response }));
        inFlight.push(pending);
        await pending;
      }
    };
    const loaders = [0, 1, 0, 1].map((i) => load(instances[i] as Gql));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const revocation = await signRevocation({ agreement: agreementId, version: 1, reason: 'Partnership dissolved', at: new Date(), org: p.kc.id, privateJwk: p.kc.privateJwk });
    const revoked = await hub.gql(await p.kc.token(), 'mutation R($r: String!) { revokeAgreement(revocation: $r) { status } }', { r: revocation });
    expect(revoked.body.data).toEqual({ revokeAgreement: { status: 'REVOKED' } });
    const revokedAt = Date.now();
    // Let the load run on until enough requests have started after the revocation (however busy
    // the machine is), then stop it.
    for (let waited = 0; waited < 20_000 && countStartedAfter(revokedAt) < 8; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    stop = true;
    await Promise.all(loaders);
    const results = await Promise.all(inFlight);
    const after = results.filter((r) => r.startedAt > revokedAt);
    expect(after.length).toBeGreaterThanOrEqual(8);
    for (const { response } of after) {
      expect(response.status).toBe(200);
      expect(response.text).not.toContain('Sam');
      expect(response.text).not.toContain('KC-CH-1');
    }
    // And once more, on each instance, right away.
    for (const instance of instances) {
      const response = await read(instance);
      expect(response.text).not.toContain('Sam');
      expect(response.text).not.toContain(p.canary);
    }
  });

  it('refuses a write signed with a key another instance has just replaced, writing nothing', async () => {
    // Both instances have the key in memory (they answered it above). The keys are replaced
    // behind them, as `accord org keys` or another instance would.
    const old = await p.westminster.token();
    const { publicJwks } = await generateSigningKey({ alg: 'EdDSA', kid: 'westminster-key-2' });
    await replaceOrganisationKeys(hub.database.db, 'westminster', publicJwks);
    for (const instance of instances) {
      const response = await instance(old, publishMutation, { input: { demographics: canaryRecords('after-rotation').demographics } });
      expect(response.status).toBe(401);
      expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(await eventsOfRequests(hub, [requestIdOf(response)])).toBe(0);
    }
    const [row] = rowsOf<{ n: number }>(await hub.database.db.execute(sql`select count(*)::int as n from demographics where owner_org = 'westminster'`));
    expect(row?.n).toBe(0);
  });
});
