/**
 * Concurrent read load with a client-side ledger: every response that carried records is noted
 * by its request id, so a test can compare what was delivered with what the audit trail holds
 * ("no audit, no data", CONTRACT §7) after a crash, a stop or an outage.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { verifyChain } from '../../src/audit/index.js';
import { rowsOf, type Db } from '../../src/db/index.js';
import { publishRecords } from '../../src/records/index.js';
import { systemClock } from '../../src/clock.js';
import { makeOrg, type TestOrg } from './keys.js';
import { validNhsNumbers } from './nhs-numbers.js';

export const subjects = validNhsNumbers(8, 720_000_000);

export const readQuery = 'query Read($n: NHSNumber!) { subject(nhsNumber: $n) { demographics { externalId givenName } } }';

/** An organisation with one Demographics record about each of `subjects`: it reads its own records. */
export async function prepareReader(db: Db, id = 'westminster'): Promise<TestOrg> {
  const org = await makeOrg(db, id);
  await publishRecords(db, {
    owner: id,
    clock: systemClock,
    input: { demographics: subjects.map((nhsNumber, i) => ({ externalId: `${id}-d-${i}`, nhsNumber, givenName: `Child ${i}`, familyName: 'Test' })) },
  });
  return org;
}

export interface Delivery {
  readonly requestId: string;
  readonly records: number;
}

export interface LoadResult {
  /** Responses that carried at least one record, by request id. */
  readonly delivered: Delivery[];
  /** Status codes of every response received. */
  readonly statuses: Map<number, number>;
  /** Requests that got no HTTP response at all (connection refused or cut). */
  noResponse: number;
  /** Bodies of responses that were neither 200 nor one of `expectedStatuses`. */
  readonly unexpected: string[];
}

export interface LoadOptions {
  readonly concurrency: number;
  /** Stop issuing requests once this resolves (or after `maxRequests`). */
  readonly until: Promise<unknown>;
  readonly maxRequests?: number;
  /** Base URLs to spread requests over, round-robin. */
  readonly urls: readonly string[];
}

/** Runs the read load until told to stop; never throws for a failed request (it is counted). */
export async function runReadLoad(org: TestOrg, options: LoadOptions): Promise<LoadResult> {
  let stop = false;
  void options.until.then(() => (stop = true));
  const result: LoadResult = { delivered: [], statuses: new Map(), noResponse: 0, unexpected: [] };
  const maxRequests = options.maxRequests ?? 5_000;
  let issued = 0;
  const worker = async () => {
    while (!stop && issued < maxRequests) {
      const url = options.urls[issued % options.urls.length] as string;
      issued += 1;
      const requestId = `load-${randomUUID()}`;
      const nhsNumber = subjects[issued % subjects.length] as string;
      try {
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await org.token()}`, 'x-request-id': requestId },
          body: JSON.stringify({ query: readQuery, variables: { n: nhsNumber } }),
        });
        const text = await response.text();
        result.statuses.set(response.status, (result.statuses.get(response.status) ?? 0) + 1);
        if (response.status === 200) {
          const body = JSON.parse(text) as { data?: { subject?: { demographics?: unknown[] } } };
          const records = body.data?.subject?.demographics?.length ?? 0;
          if (records > 0) result.delivered.push({ requestId: response.headers.get('x-request-id') ?? requestId, records });
        } else {
          result.unexpected.push(`${response.status} ${text.slice(0, 300)}`);
        }
      } catch {
        result.noResponse += 1;
        // The server is gone or going: don't spin.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return result;
}

/** Asserts that every delivered response has READ events committed and that the whole chain verifies. */
export async function expectLedgerAudited(db: Db, delivered: readonly Delivery[]): Promise<void> {
  const rows = rowsOf<{ request_id: string; n: number }>(
    await db.execute(sql`select request_id, count(*)::int as n from audit_events where action = 'READ' and request_id like 'load-%' group by request_id`),
  );
  const audited = new Map(rows.map((row) => [row.request_id, Number(row.n)]));
  const missing = delivered.filter((d) => (audited.get(d.requestId) ?? 0) === 0);
  expect(missing, `${missing.length} of ${delivered.length} delivered responses have no committed READ events`).toEqual([]);
  const verified = await verifyChain(db);
  expect(verified.firstBad).toBeUndefined();
  expect(verified.intact).toBe(true);
}
