/**
 * Several hub instances on one database, under concurrent load on all of them (operator.md,
 * "Several instances behind a load balancer"). On PostgreSQL: this test's hub plus two real
 * `accord serve` processes, each with its own connection pool. On the embedded database (one
 * process only by design): three hub instances in this process sharing the one handle.
 *
 * What must hold: the audit chain stays gapless with no fork, a token used on one instance is
 * refused on every other, and a revocation made through one instance holds on the very next
 * request through another.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRevocation } from '../../src/agreements/index.js';
import { verifyChain } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock.js';
import { rowsOf } from '../../src/db/index.js';
import { killHubProcess, startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import type { TestOrg } from '../helpers/keys.js';
import { expectLedgerAudited, prepareReader, runReadLoad } from '../helpers/read-load.js';
import { testBackend } from '../helpers/test-database.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { agreementId, child, stranger, everythingQuery, expectRefused, nothingVisible, publishMutation, revokeMutation, setUpPartnership, sharedView, type Partnership } from '../security/fixtures.js';

const unlimited = { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' };

async function post(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('three hub instances on one database', { timeout: 90_000 }, () => {
  let hub: TestHub;
  let processes: HubProcess[] = [];
  let urls: string[];
  let p: Partnership;
  let reader: TestOrg;

  beforeAll(async () => {
    hub = await startTestHub({ env: unlimited });
    p = await setUpPartnership(hub);
    reader = await prepareReader(hub.database.db, 'hackney');
    if (testBackend === 'postgres') {
      // Real processes sharing the database and the hub key file of the test's own instance.
      const env = { ...unlimited, DATABASE_URL: hub.database.url as string, ACCORD_DATA_DIR: hub.dataDir };
      processes = [await startHubProcess(env), await startHubProcess(env)];
      urls = [hub.url, ...processes.map((proc) => proc.url)];
    } else {
      urls = [hub.url, (await hub.startSecondInstance()).url, (await hub.startSecondInstance()).url];
    }
  });
  afterAll(async () => {
    for (const proc of processes) await killHubProcess(proc);
    await hub?.stop();
  });

  it('keeps one gapless chain, with no fork, under concurrent reads and publishes on every instance', async () => {
    const publishes = (async () => {
      // Writes commit their PUBLISH events in their own transactions while the reads group-commit.
      for (let i = 0; i < 24; i += 1) {
        const url = urls[i % urls.length] as string;
        const input = { demographics: [{ externalId: `kc-load-${i}`, nhsNumber: stranger, givenName: `Load ${i}` }] };
        expect((await post(url, await p.kc.token(), publishMutation, { input })).status).toBe(200);
      }
    })();
    const reads = runReadLoad(reader, { concurrency: 9, urls, until: publishes, maxRequests: 600 });
    await publishes;
    const result = await reads;
    expect(result.unexpected).toEqual([]);
    expect(result.delivered.length).toBeGreaterThan(urls.length * 5);

    const db = hub.database.db;
    const [stats] = rowsOf<{ n: number; distinct_seq: number; max_seq: number; distinct_prev: number }>(
      await db.execute(sql`select count(*)::int as n, count(distinct seq)::int as distinct_seq, max(seq)::int as max_seq, count(distinct prev_hash)::int as distinct_prev from audit_events`),
    );
    // Gapless (seq 1..n, each once) and no fork (no two events name the same predecessor).
    expect(stats).toEqual({ n: stats?.max_seq, distinct_seq: stats?.max_seq, max_seq: stats?.max_seq, distinct_prev: stats?.max_seq });
    await expectLedgerAudited(db, result.delivered);
    expect((await verifyChain(db)).checked).toBe(stats?.max_seq);
  });

  it('refuses on every other instance a token already used on one', async () => {
    for (const [first, ...others] of [urls, [...urls].reverse()]) {
      const token = await p.westminster.token();
      const accepted = await post(first as string, token, everythingQuery, { n: child });
      expect(accepted.status).toBe(200);
      expect(accepted.body.data).toEqual(sharedView);
      for (const other of others) expectRefused(await post(other, token, everythingQuery, { n: child }), 401, 'UNAUTHENTICATED', p.canary, /already been used/);
    }
  });

  it('holds a revocation made through one instance on the next request through another', async () => {
    const [a, b, c] = urls as [string, string, string];
    expect((await post(c, await p.westminster.token(), everythingQuery, { n: child })).body.data).toEqual(sharedView);
    const revocation = await signRevocation({ agreement: agreementId, version: 1, reason: 'instances test', at: systemClock(), org: 'kensington-chelsea', privateJwk: p.kc.privateJwk });
    const revoked = await post(a, await p.kc.token(), revokeMutation, { r: revocation });
    expect(revoked.body.data).toEqual({ revokeAgreement: { id: agreementId, version: 1, status: 'REVOKED' } });
    for (const next of [b, c, a]) {
      const after = await post(next, await p.westminster.token(), everythingQuery, { n: child });
      expect(after.status).toBe(200);
      expect(after.body.data).toEqual(nothingVisible);
      expect(after.text).not.toContain('Sam');
    }
  });
});
