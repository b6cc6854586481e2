import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { tables } from '../../src/db/index.js';
import {
  createRecordLoaders,
  ownerOnlyFilter,
  publishRecords,
  recordTypeList,
  type PublishInput,
  type RecordRow,
} from '../../src/records/index.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const subjects = validNhsNumbers(50, 700_000_000);

/** Records for every subject in all six lists (two in some), under externalIds prefixed by `tag`. */
function inputFor(tag: string): PublishInput {
  const each = <T>(make: (nhsNumber: string, i: number) => T[]) => subjects.flatMap((n, i) => make(n, i));
  return {
    demographics: each((nhsNumber, i) => [{ externalId: `${tag}-d-${i}`, nhsNumber, givenName: `${tag} ${i}` }]),
    socialCareCases: each((nhsNumber, i) => [
      { externalId: `${tag}-c-${i}-a`, nhsNumber, service: 'CHILDREN', status: 'OPEN' },
      { externalId: `${tag}-c-${i}-b`, nhsNumber, service: 'ADULTS', status: 'CLOSED' },
    ]),
    schoolEnrolments: each((nhsNumber, i) => [{ externalId: `${tag}-s-${i}`, nhsNumber, yearGroup: i % 14 }]),
    housingTenancies: each((nhsNumber, i) => [{ externalId: `${tag}-h-${i}`, nhsNumber, rentArrears: i % 2 === 0 }]),
    policeNotifications: each((nhsNumber, i) => [
      { externalId: `${tag}-p-${i}-a`, nhsNumber, kind: 'OTHER' },
      { externalId: `${tag}-p-${i}-b`, nhsNumber, kind: 'CHILD_CONCERN' },
    ]),
    gpRegistrations: each((nhsNumber, i) => [{ externalId: `${tag}-g-${i}`, nhsNumber, practiceOdsCode: 'E85001' }]),
  };
}

describe('createRecordLoaders', () => {
  let database: TestDatabase;
  let statements = 0;
  const clock = fixedClock('2026-03-01T09:00:00Z');

  beforeAll(async () => {
    database = await createTestDatabase({ onQuery: () => (statements += 1) });
    await database.db.insert(tables.organisations).values([
      { id: 'westminster', name: 'Westminster City Council', kind: 'COUNCIL' },
      { id: 'met-police', name: 'Metropolitan Police', kind: 'POLICE' },
    ]);
    await publishRecords(database.db, { owner: 'westminster', input: inputFor('wcc'), clock });
    clock.advance(1000);
    await publishRecords(database.db, { owner: 'met-police', input: inputFor('met'), clock });
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(() => {
    statements = 0;
  });

  async function loadAll(loaders: ReturnType<typeof createRecordLoaders>, nhsNumbers: readonly string[]) {
    return Promise.all(nhsNumbers.map((n) => Promise.all(recordTypeList.map((type) => loaders.bySubject(type.name).load(n)))));
  }

  it('loads all six lists of one subject in six statements, showing only the owner-only rows', async () => {
    const loaders = createRecordLoaders(database.db, { filter: ownerOnlyFilter('westminster') });
    const [lists] = await loadAll(loaders, [subjects[0]!]);

    expect(statements).toBe(6);
    expect(lists?.map((rows) => rows.length)).toEqual([1, 2, 1, 1, 2, 1]);
    const all = lists!.flat();
    expect(all.every((row) => row.ownerOrg === 'westminster' && row.nhsNumber === subjects[0])).toBe(true);
    expect(all.map((row) => row.recordType)).toEqual([
      'Demographics', 'SocialCareCase', 'SocialCareCase', 'SchoolEnrolment', 'HousingTenancy', 'PoliceNotification', 'PoliceNotification', 'GpRegistration',
    ]);
  });

  it('loads all six lists of 50 subjects in the same six statements', async () => {
    const loaders = createRecordLoaders(database.db, { filter: ownerOnlyFilter('met-police') });
    const lists = await loadAll(loaders, subjects);

    expect(statements).toBe(6);
    lists.forEach((perType, i) => {
      expect(perType.map((rows) => rows.length)).toEqual([1, 2, 1, 1, 2, 1]);
      expect(perType.flat().every((row) => row.ownerOrg === 'met-police' && row.nhsNumber === subjects[i])).toBe(true);
    });
    // Loaded again in the same request: served from the request's cache, no new statement.
    await loadAll(loaders, subjects);
    expect(statements).toBe(6);
  });

  it('returns rows with their record type and every column, camelCase, ordered by recordedAt then id', async () => {
    clock.advance(60_000);
    await publishRecords(database.db, {
      owner: 'westminster',
      input: { socialCareCases: [{ externalId: 'wcc-c-0-late', nhsNumber: subjects[0]!, caseRef: 'LATE', openedOn: '2026-02-01' }] },
      clock,
    });
    statements = 0;
    const loaders = createRecordLoaders(database.db, { filter: ownerOnlyFilter('westminster') });
    const rows = await loaders.bySubject('SocialCareCase').load(subjects[0]!);

    expect(rows.map((row) => row.externalId)).toEqual([...['wcc-c-0-a', 'wcc-c-0-b'].sort((a, b) => idOrder(rows, a, b)), 'wcc-c-0-late']);
    expect(rows[2]).toEqual({
      recordType: 'SocialCareCase',
      id: expect.any(String),
      ownerOrg: 'westminster',
      externalId: 'wcc-c-0-late',
      nhsNumber: subjects[0],
      recordedAt: clock(),
      updatedAt: clock(),
      caseRef: 'LATE',
      service: null,
      status: null,
      category: null,
      openedOn: '2026-02-01',
      closedOn: null,
      leadWorker: null,
      summary: null,
    });
    await database.db.execute(sql`delete from social_care_cases where external_id = 'wcc-c-0-late'`);
  });

  it('sends no query at all for a type whose filter is undefined (nothing visible)', async () => {
    const loaders = createRecordLoaders(database.db, {
      filter: (type) => (type === 'Demographics' ? ownerOnlyFilter('westminster')(type) : undefined),
    });
    const lists = await loadAll(loaders, subjects.slice(0, 5));

    expect(statements).toBe(1);
    for (const perType of lists) {
      expect(perType[0]).toHaveLength(1);
      expect(perType.slice(1).every((rows) => rows.length === 0)).toBe(true);
    }
  });

  it('gives an empty list for a subject with no records and for one only others can see', async () => {
    const [unknown] = validNhsNumbers(1, 900_000_000);
    const loaders = createRecordLoaders(database.db, { filter: ownerOnlyFilter('nobody') });
    const [a, b] = await Promise.all([loaders.bySubject('Demographics').load(unknown!), loaders.bySubject('Demographics').load(subjects[0]!)]);
    expect(a).toEqual([]);
    expect(b).toEqual([]);
    expect(statements).toBe(1);
  });

  it('splits very large batches by maxBatchSize', async () => {
    const loaders = createRecordLoaders(database.db, { filter: ownerOnlyFilter('westminster'), maxBatchSize: 20 });
    const lists = await Promise.all(subjects.map((n) => loaders.bySubject('Demographics').load(n)));
    expect(statements).toBe(3);
    expect(lists.every((rows) => rows.length === 1)).toBe(true);
  });
});

/** Rows recorded at the same instant are ordered by id: the expected order of two externalIds. */
function idOrder(rows: readonly RecordRow[], a: string, b: string): number {
  const idOf = (externalId: string) => rows.find((row) => row.externalId === externalId)?.id ?? '';
  return idOf(a) < idOf(b) ? -1 : 1;
}
