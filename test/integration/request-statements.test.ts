/**
 * Counts the SQL statements of whole requests: a full subject query costs one statement per record
 * type however many records the subject has (batched loading, decisions compiled once), plus one
 * group commit.
 */
import { getTableName } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordTypeList } from '../../src/records/index.js';
import { makeOrg, type TestOrg } from '../helpers/keys.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';

const [few = '', many = ''] = validNhsNumbers(2, 40);

const fullSubject = `query Full($n: NHSNumber!) {
  subject(nhsNumber: $n) {
    demographics { id givenName familyName dateOfBirth postcode addressLine owner { id } sharedUnder { id } }
    socialCareCases { id caseRef service status category openedOn closedOn leadWorker summary }
    schoolEnrolments { id schoolUrn schoolName yearGroup startedOn attendancePercent exclusionsThisYear }
    housingTenancies { id tenancyRef addressLine postcode startedOn endedOn rentArrears }
    policeNotifications { id reference kind occurredOn riskLevel summary }
    gpRegistrations { id practiceOdsCode practiceName registeredOn }
  }
}`;

function items(nhsNumber: string, count: number) {
  const input: Record<string, unknown[]> = {};
  for (const info of recordTypeList) {
    input[info.listName] = Array.from({ length: count }, (_, i) => ({ externalId: `${info.listName}-${nhsNumber}-${i}`, nhsNumber }));
  }
  return input;
}

describe('SQL statements per request', () => {
  let hub: TestHub;
  let org: TestOrg;
  let statements: string[] = [];

  beforeAll(async () => {
    const database = await createTestDatabase({ onQuery: (query) => statements.push(query) });
    hub = await startTestHub({ database });
    org = await makeOrg(database.db, 'westminster');
    for (const [nhsNumber, count] of [[few, 1], [many, 10]] as const) {
      const published = await hub.gql(await org.token(), 'mutation P($i: PublishRecordsInput!) { publishRecords(input: $i) { count } }', { i: items(nhsNumber, count) });
      expect(published.body.errors).toBeUndefined();
    }
  });
  afterAll(async () => {
    await hub?.stop();
    await hub?.database.close();
  });

  async function countFor(nhsNumber: string): Promise<{ total: number; recordReads: number; records: number; others: string[] }> {
    const token = await org.token();
    statements = [];
    const response = await hub.gql(token, fullSubject, { n: nhsNumber });
    expect(response.body.errors).toBeUndefined();
    const subject = response.body.data?.subject as Record<string, unknown[]>;
    const records = Object.values(subject).reduce((n, list) => n + list.length, 0);
    const recordReads = statements.filter((q) => recordTypeList.some((info) => q.includes(`from "${getTableName(info.table)}"`))).length;
    const others = statements.filter((q) => !recordTypeList.some((info) => q.includes(`from "${getTableName(info.table)}"`)));
    return { total: statements.length, recordReads, records, others };
  }

  it('is the same for 6 records as for 60, with one read per record type', async () => {
    const small = await countFor(few);
    const large = await countFor(many);
    expect(small.records).toBe(6);
    expect(large.records).toBe(60);
    expect(small.recordReads).toBe(6);
    expect(large.recordReads).toBe(6);
    expect(large.total).toBe(small.total);
    // Besides loading records, exactly one statement: the group commit that claims the token id,
    // checks the generations and appends the audit events (issue 11).
    expect(large.others).toHaveLength(1);
    expect(large.others[0]).toContain('accord_commit');
    expect(large.total).toBe(7);
    console.info(`full subject query: ${large.total} SQL statements (${large.recordReads} record reads) for ${large.records} records`);
  });
});
