import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { rowsOf, tables } from '../../src/db/index.js';
import { InputError } from '../../src/errors.js';
import { publishRecords, retractRecords, type PublishInput } from '../../src/records/index.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const recordTables = [
  'subjects',
  'demographics',
  'social_care_cases',
  'school_enrolments',
  'housing_tenancies',
  'police_notifications',
  'gp_registrations',
] as const;

const [alice, bob, carol] = validNhsNumbers(3) as [string, string, string];

/** One valid item for every list. */
function fullInput(prefix = 'x'): PublishInput {
  return {
    demographics: [{ externalId: `${prefix}-d1`, nhsNumber: alice, givenName: 'Alice', familyName: 'Able', dateOfBirth: '2014-02-28', postcode: 'W2 1AA', addressLine: '1 Harrow Road' }],
    socialCareCases: [
      { externalId: `${prefix}-c1`, nhsNumber: alice, caseRef: 'CS-1', service: 'CHILDREN', status: 'OPEN', category: 'child-protection', openedOn: '2026-01-05', closedOn: null, leadWorker: 'J. Smith', summary: 'Section 47 enquiry' },
    ],
    schoolEnrolments: [{ externalId: `${prefix}-s1`, nhsNumber: alice, schoolUrn: '100001', schoolName: 'St Mary', yearGroup: 6, startedOn: '2020-09-01', attendancePercent: 87.5, exclusionsThisYear: 0 }],
    housingTenancies: [{ externalId: `${prefix}-h1`, nhsNumber: bob, tenancyRef: 'T-9', addressLine: '2 Elgin Ave', postcode: 'W9 2AA', startedOn: '2019-04-01', endedOn: null, rentArrears: true }],
    policeNotifications: [{ externalId: `${prefix}-p1`, nhsNumber: bob, reference: 'MP-77', kind: 'DOMESTIC_ABUSE', occurredOn: '2026-02-10', riskLevel: 'HIGH', summary: 'Attended' }],
    gpRegistrations: [{ externalId: `${prefix}-g1`, nhsNumber: alice, practiceOdsCode: 'E85001', practiceName: 'Harrow Road Surgery', registeredOn: '2014-03-01' }],
  };
}

describe('publishRecords and retractRecords', () => {
  let database: TestDatabase;
  const clock = fixedClock('2026-03-01T09:00:00Z');

  async function countRows(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of recordTables) {
      const rows = rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from ${sql.identifier(table)}`));
      counts[table] = Number(rows[0]?.n);
    }
    return counts;
  }

  async function clearRecords(): Promise<void> {
    await database.db.execute(sql.raw(`truncate ${recordTables.join(', ')}`));
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db.insert(tables.organisations).values([
      { id: 'westminster', name: 'Westminster City Council', kind: 'COUNCIL' },
      { id: 'kensington-chelsea', name: 'Royal Borough of Kensington and Chelsea', kind: 'COUNCIL' },
    ]);
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await clearRecords();
    clock.set('2026-03-01T09:00:00Z');
  });

  it('writes every list and reads back exactly what was published', async () => {
    const outcome = await publishRecords(database.db, { owner: 'westminster', input: fullInput(), clock });

    expect(outcome.count).toBe(6);
    expect(outcome.byType).toEqual([
      { recordType: 'Demographics', created: 1, updated: 0 },
      { recordType: 'SocialCareCase', created: 1, updated: 0 },
      { recordType: 'SchoolEnrolment', created: 1, updated: 0 },
      { recordType: 'HousingTenancy', created: 1, updated: 0 },
      { recordType: 'PoliceNotification', created: 1, updated: 0 },
      { recordType: 'GpRegistration', created: 1, updated: 0 },
    ]);
    expect(outcome.records.map((r) => [r.recordType, r.externalId, r.nhsNumber, r.created])).toEqual([
      ['Demographics', 'x-d1', alice, true],
      ['SocialCareCase', 'x-c1', alice, true],
      ['SchoolEnrolment', 'x-s1', alice, true],
      ['HousingTenancy', 'x-h1', bob, true],
      ['PoliceNotification', 'x-p1', bob, true],
      ['GpRegistration', 'x-g1', alice, true],
    ]);
    expect(await countRows()).toEqual({
      subjects: 2, demographics: 1, social_care_cases: 1, school_enrolments: 1, housing_tenancies: 1, police_notifications: 1, gp_registrations: 1,
    });

    const [care] = await database.db.select().from(tables.socialCareCases);
    expect(care).toEqual({
      id: outcome.records[1]?.id,
      ownerOrg: 'westminster',
      externalId: 'x-c1',
      nhsNumber: alice,
      recordedAt: new Date('2026-03-01T09:00:00Z'),
      updatedAt: new Date('2026-03-01T09:00:00Z'),
      caseRef: 'CS-1',
      service: 'CHILDREN',
      status: 'OPEN',
      category: 'child-protection',
      openedOn: '2026-01-05',
      closedOn: null,
      leadWorker: 'J. Smith',
      summary: 'Section 47 enquiry',
    });
    const [school] = await database.db.select().from(tables.schoolEnrolments);
    expect(school).toMatchObject({ yearGroup: 6, attendancePercent: 87.5, exclusionsThisYear: 0, startedOn: '2020-09-01' });
    const [tenancy] = await database.db.select().from(tables.housingTenancies);
    expect(tenancy).toMatchObject({ rentArrears: true, endedOn: null, nhsNumber: bob });
  });

  it('upserts by (owner, type, externalId): updates replace the record whole, new ids are created', async () => {
    const first = await publishRecords(database.db, { owner: 'westminster', input: fullInput(), clock });
    clock.advance(60_000);
    const second = await publishRecords(database.db, {
      owner: 'westminster',
      input: {
        demographics: [
          // Same externalId: updated; postcode and addressLine omitted, so cleared.
          { externalId: 'x-d1', nhsNumber: alice, givenName: 'Alicia', familyName: 'Able', dateOfBirth: '2014-02-28' },
          { externalId: 'x-d2', nhsNumber: carol, givenName: 'Carol' },
        ],
      },
      clock,
    });

    expect(second.byType).toEqual([{ recordType: 'Demographics', created: 1, updated: 1 }]);
    expect(second.records.map((r) => [r.externalId, r.created])).toEqual([['x-d1', false], ['x-d2', true]]);
    expect(second.records[0]?.id).toBe(first.records[0]?.id);

    const rows = await database.db.select().from(tables.demographics).orderBy(tables.demographics.externalId);
    expect(rows.map((r) => [r.externalId, r.givenName, r.postcode, r.addressLine, r.recordedAt.toISOString()])).toEqual([
      ['x-d1', 'Alicia', null, null, '2026-03-01T09:01:00.000Z'],
      ['x-d2', 'Carol', null, null, '2026-03-01T09:01:00.000Z'],
    ]);
    expect((await countRows()).subjects).toBe(3);
  });

  it('keeps the same externalId of two owners apart', async () => {
    await publishRecords(database.db, { owner: 'westminster', input: { demographics: fullInput().demographics }, clock });
    const other = await publishRecords(database.db, { owner: 'kensington-chelsea', input: { demographics: fullInput().demographics }, clock });
    expect(other.byType).toEqual([{ recordType: 'Demographics', created: 1, updated: 0 }]);
    expect((await countRows()).demographics).toBe(2);
  });

  it('publishing nothing writes nothing', async () => {
    const outcome = await publishRecords(database.db, { owner: 'westminster', input: { demographics: [], gpRegistrations: null }, clock });
    expect(outcome).toEqual({ count: 0, byType: [], records: [] });
  });

  const base = { externalId: 'ok-1', nhsNumber: alice };
  it.each([
    ['demographics', { ...base, nhsNumber: '9434765918' }, 'demographics[0].nhsNumber', /not a valid NHS number/],
    ['demographics', { ...base, nhsNumber: '943 476 5919' }, 'demographics[0].nhsNumber', /not a valid NHS number/],
    ['demographics', { ...base, dateOfBirth: '2025-02-29' }, 'demographics[0].dateOfBirth', /calendar date/],
    ['demographics', { ...base, postcode: 'SW1A 1AA 1234' }, 'demographics[0].postcode', /at most 10 characters \(is 13\)/],
    ['demographics', { ...base, givenName: 'A\u0000' }, 'demographics[0].givenName', /NUL/],
    ['demographics', { ...base, shoeSize: 9 }, 'demographics[0].shoeSize', /not a field of Demographics/],
    ['demographics', { ...base, externalId: '' }, 'demographics[0].externalId', /1 to 200 printable characters/],
    ['demographics', { ...base, externalId: 'x'.repeat(201) }, 'demographics[0].externalId', /1 to 200 printable/],
    ['demographics', { ...base, externalId: 'tab\there' }, 'demographics[0].externalId', /printable/],
    ['socialCareCases', { ...base, service: 'PETS' }, 'socialCareCases[0].service', /one of CHILDREN, ADULTS/],
    ['socialCareCases', { ...base, openedOn: '01/02/2026' }, 'socialCareCases[0].openedOn', /calendar date/],
    ['schoolEnrolments', { ...base, yearGroup: 15 }, 'schoolEnrolments[0].yearGroup', /whole number from -3 to 14/],
    ['schoolEnrolments', { ...base, yearGroup: 2.5 }, 'schoolEnrolments[0].yearGroup', /whole number/],
    ['schoolEnrolments', { ...base, attendancePercent: 100.5 }, 'schoolEnrolments[0].attendancePercent', /from 0 to 100/],
    ['schoolEnrolments', { ...base, attendancePercent: Number.NaN }, 'schoolEnrolments[0].attendancePercent', /number/],
    ['housingTenancies', { ...base, rentArrears: 'yes' }, 'housingTenancies[0].rentArrears', /true or false/],
    ['policeNotifications', { ...base, riskLevel: 'low' }, 'policeNotifications[0].riskLevel', /STANDARD, MEDIUM, HIGH/],
    ['gpRegistrations', { ...base, practiceOdsCode: 42 }, 'gpRegistrations[0].practiceOdsCode', /must be a string/],
  ])('refuses a bad %s item (%j) at %s', async (list, item, path, reason) => {
    const error = await publishRecords(database.db, { owner: 'westminster', input: { [list]: [item] }, clock }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('BAD_USER_INPUT');
    expect((error as InputError).problems).toEqual([{ path, reason: expect.stringMatching(reason) }]);
    expect((error as InputError).message).not.toContain('943');
  });

  it('lists every invalid item by list and index and writes nothing at all', async () => {
    await publishRecords(database.db, { owner: 'westminster', input: { demographics: fullInput('old').demographics }, clock });
    const before = await countRows();
    const input = fullInput() as Record<string, Record<string, unknown>[]>;
    input.demographics = [
      ...input.demographics!,
      { externalId: 'x-d2', nhsNumber: bob },
      { externalId: 'x-d1', nhsNumber: bob },
      { externalId: 'x-d3', nhsNumber: '1234567890', dateOfBirth: '2026-13-01' },
    ];
    input.socialCareCases = [...input.socialCareCases!, { externalId: 'x-c2', nhsNumber: alice }, { externalId: 'x-c3', nhsNumber: alice, openedOn: 'yesterday' }];
    input.gpRegistrations = [{ externalId: 'x-g1', nhsNumber: alice, practiceOdsCode: 'E85001-TOO-LONG' }];

    const error = await publishRecords(database.db, { owner: 'westminster', input: input as PublishInput, clock }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems.map((p) => p.path)).toEqual([
      'demographics[2].externalId',
      'demographics[3].nhsNumber',
      'demographics[3].dateOfBirth',
      'socialCareCases[2].openedOn',
      'gpRegistrations[0].practiceOdsCode',
    ]);
    expect((error as InputError).problems[0]?.reason).toBe('repeats the externalId of demographics[0]');
    expect(await countRows()).toEqual(before);
  });

  it.each([
    [{ demographics: 'not a list' }, 'demographics', /must be a list/],
    [{ pets: [] }, 'pets', /not a list of records/],
    [{ demographics: [null] }, 'demographics[0]', /must be an object/],
  ])('refuses a malformed input %j', async (input, path, reason) => {
    const error = await publishRecords(database.db, { owner: 'westminster', input: input as never, clock }).catch((e: unknown) => e);
    expect((error as InputError).problems).toEqual([{ path, reason: expect.stringMatching(reason) }]);
  });

  it('accepts 1000 items in one call and refuses 1001, writing nothing', async () => {
    const numbers = validNhsNumbers(1001, 500_000_000);
    const people = numbers.map((nhsNumber, i) => ({ externalId: `bulk-${i}`, nhsNumber, givenName: `Person ${i}` }));
    const practices = numbers.map((nhsNumber, i) => ({ externalId: `bulk-${i}`, nhsNumber, practiceName: `Practice ${i}` }));

    const error = await publishRecords(database.db, {
      owner: 'westminster',
      input: { demographics: people.slice(0, 600), gpRegistrations: practices.slice(600) },
      clock,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([{ path: 'input', reason: 'at most 1000 records may be published in one call (got 1001)' }]);
    expect((await countRows()).demographics).toBe(0);

    const outcome = await publishRecords(database.db, {
      owner: 'westminster',
      input: { demographics: people.slice(0, 600), gpRegistrations: practices.slice(600, 1000) },
      clock,
    });
    expect(outcome.count).toBe(1000);
    expect(await countRows()).toMatchObject({ subjects: 1000, demographics: 600, gp_registrations: 400 });
  });

  it('rolls everything back when the database refuses a write part-way', async () => {
    await publishRecords(database.db, { owner: 'westminster', input: { demographics: fullInput('old').demographics }, clock });
    // A real failure inside the transaction, after the subjects and the other lists are written:
    // gp_registrations is the last table publishRecords writes.
    await database.db.execute(sql`alter table gp_registrations add constraint test_refuse check (practice_name is distinct from 'REFUSE') not valid`);
    try {
      const before = await countRows();
      const input = fullInput('new');
      const error = await publishRecords(database.db, {
        owner: 'westminster',
        input: {
          ...input,
          demographics: [...input.demographics!, { externalId: 'old-d1', nhsNumber: carol, givenName: 'Changed' }],
          gpRegistrations: [{ externalId: 'new-g1', nhsNumber: carol, practiceName: 'REFUSE' }],
        },
        clock,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(InputError);
      expect(await countRows()).toEqual(before);
      const [old] = await database.db.select().from(tables.demographics).where(eq(tables.demographics.externalId, 'old-d1'));
      expect(old?.givenName).toBe('Alice');
    } finally {
      await database.db.execute(sql`alter table gp_registrations drop constraint test_refuse`);
    }
  });

  it('rolls back when afterWrite (the audit hook) fails, and hands it the outcome inside the transaction', async () => {
    let seen: number | undefined;
    const error = await publishRecords(database.db, {
      owner: 'westminster',
      input: fullInput(),
      clock,
      afterWrite: async (tx, outcome) => {
        const rows = rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from demographics`));
        seen = Number(rows[0]?.n);
        expect(outcome.count).toBe(6);
        throw new Error('audit store unavailable');
      },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('audit store unavailable');
    expect(seen).toBe(1);
    expect(Object.values(await countRows()).every((n) => n === 0)).toBe(true);
  });

  describe('retractRecords', () => {
    beforeEach(async () => {
      await publishRecords(database.db, { owner: 'westminster', input: fullInput(), clock });
      await publishRecords(database.db, { owner: 'kensington-chelsea', input: fullInput(), clock });
    });

    it("removes only the owner's own records and ignores ids it does not hold", async () => {
      const retracted = await retractRecords(database.db, {
        owner: 'westminster',
        recordType: 'Demographics',
        externalIds: ['x-d1', 'x-d1', 'no-such-id', 'x-c1'],
      });
      expect(retracted).toEqual([{ id: expect.any(String), externalId: 'x-d1', nhsNumber: alice }]);

      const left = await database.db.select().from(tables.demographics);
      expect(left.map((r) => [r.ownerOrg, r.externalId])).toEqual([['kensington-chelsea', 'x-d1']]);
      // The social care case with externalId x-c1 is another type: untouched.
      expect((await countRows()).social_care_cases).toBe(2);
    });

    it("cannot touch another owner's records, and says nothing about them", async () => {
      const retracted = await retractRecords(database.db, { owner: 'westminster', recordType: 'HousingTenancy', externalIds: ['k-only'] });
      expect(retracted).toEqual([]);
      await retractRecords(database.db, { owner: 'westminster', recordType: 'HousingTenancy', externalIds: ['x-h1'] });
      const left = await database.db
        .select()
        .from(tables.housingTenancies)
        .where(and(eq(tables.housingTenancies.ownerOrg, 'kensington-chelsea'), eq(tables.housingTenancies.externalId, 'x-h1')));
      expect(left).toHaveLength(1);
    });

    it.each([
      [{ recordType: 'Pets', externalIds: ['x'] }, 'recordType', /not a record type/],
      [{ recordType: 'Demographics', externalIds: Array.from({ length: 1001 }, (_, i) => `id-${i}`) }, 'externalIds', /at most 1000 ids .*got 1001/],
      [{ recordType: 'Demographics', externalIds: ['ok', ''] }, 'externalIds[1]', /1 to 200 printable/],
    ])('refuses bad arguments (case %#)', async (options, path, reason) => {
      const before = await countRows();
      const error = await retractRecords(database.db, { owner: 'westminster', ...options } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).problems).toEqual([{ path, reason: expect.stringMatching(reason) }]);
      expect(await countRows()).toEqual(before);
    });

    it('rolls the deletion back when afterWrite fails', async () => {
      const error = await retractRecords(database.db, {
        owner: 'westminster',
        recordType: 'GpRegistration',
        externalIds: ['x-g1'],
        afterWrite: async (_tx, retracted) => {
          expect(retracted).toHaveLength(1);
          throw new Error('audit store unavailable');
        },
      }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('audit store unavailable');
      expect((await countRows()).gp_registrations).toBe(2);
    });
  });
});
