/**
 * The SQL path and the code path decide alike: for random agreement sets, callers, instants and
 * `where` conditions, the rows `visibilitySql` lets through the database are exactly the rows
 * `decide(...).visible` shows when every row is loaded unfiltered (with its subject age from
 * `subjectAgeSql`, as the record loader reads it). Runs on PGlite and PostgreSQL.
 */
import { eq, getTableColumns } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDecisionIndex, subjectAgeSql, subjectAgeYears } from '../../src/agreements/index.js';
import { recordTypes, type RecordType } from '../../src/records/index.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { agreementSetArbitrary, callerArbitrary, instants, recordTypeNames, rowArbitrary } from './arbitraries.js';
import { indexed, insertRecord, isa, kc, purpose, registerOrgs, wcc } from './decision-fixtures.js';

const rowsPerType = 40;

describe('visibilitySql agrees with decide()', () => {
  let database: TestDatabase;
  let demographics: { nhsNumber: string; ownerOrg: string; dateOfBirth: string | null }[];

  beforeAll(async () => {
    database = await createTestDatabase();
    await registerOrgs(database.db);
    const subjects = validNhsNumbers(6, 720_000_000);
    // Demographics first: they also give (or, when several disagree, withhold) each subject's age.
    for (const [typeIndex, type] of recordTypeNames.entries()) {
      const rows = fc.sample(rowArbitrary(type), { numRuns: rowsPerType, seed: 8785 + typeIndex });
      for (const [index, { ownerOrg, ...fields }] of rows.entries()) {
        await insertRecord(database.db, type, ownerOrg as string, subjects[index % subjects.length] as string, fields);
      }
    }
    const d = recordTypes.Demographics.table;
    demographics = (await database.db.select({ nhsNumber: d.nhsNumber!, ownerOrg: d.ownerOrg!, dateOfBirth: d.dateOfBirth! }).from(d)) as typeof demographics;
  });
  afterAll(async () => {
    await database.close();
  });

  it('for random agreements, callers, instants and conditions, on every record type', async () => {
    const { db } = database;
    let visibleSeen = 0;
    let hiddenSeen = 0;
    await fc.assert(
      fc.asyncProperty(
        agreementSetArbitrary(6),
        callerArbitrary,
        fc.constantFrom(...instants),
        fc.constantFrom(...recordTypeNames),
        async (agreements, caller, at, recordType: RecordType) => {
          const now = new Date(at);
          const decisions = buildDecisionIndex(agreements).forCaller(caller, now);
          const { table } = recordTypes[recordType];
          const all = (await db.select({ ...getTableColumns(table), subjectAgeYears: subjectAgeSql(table, now) }).from(table)) as Record<string, unknown>[];
          expect(all).toHaveLength(rowsPerType);
          // The age SQL computes is the age the code-side definition gives for the same owner's Demographics.
          for (const row of all) {
            const dobs = demographics.filter((d) => d.nhsNumber === row.nhsNumber && d.ownerOrg === row.ownerOrg).map((d) => d.dateOfBirth);
            expect(row.subjectAgeYears ?? undefined).toBe(subjectAgeYears(dobs, now));
          }
          const byCode = all
            .filter((row) => decisions.decide(recordType, row, typeof row.subjectAgeYears === 'number' ? row.subjectAgeYears : undefined).visible)
            .map((row) => row.id as string)
            .sort();
          const bySql = (await db.select({ id: table.id! }).from(table).where(decisions.visibilitySql(recordType, table))).map((r) => r.id).sort();
          expect(bySql).toEqual(byCode);
          visibleSeen += byCode.filter((id) => !all.find((r) => r.id === id && r.ownerOrg === caller.org)).length;
          hiddenSeen += all.length - byCode.length;
        },
      ),
      { numRuns: 250 },
    );
    // The property must have exercised shared (not only own) records and hidden ones.
    expect(visibleSeen).toBeGreaterThan(30);
    expect(hiddenSeen).toBeGreaterThan(100);
  });

  it('binds organisation ids and condition values as parameters, never as SQL text', async () => {
    const hostile = "x' or true --";
    const document = isa({ provider: kc, scope: [{ recordType: 'SocialCareCase', fields: ['caseRef'], where: { field: 'category', op: 'eq', value: hostile } }] });
    const decisions = buildDecisionIndex([indexed(document)]).forCaller({ org: wcc, purpose, roles: ['social-worker'], breakGlass: undefined }, new Date('2026-06-01T12:00:00Z'));
    const { table } = recordTypes.SocialCareCase;
    const query = database.db.select({ id: table.id! }).from(table).where(decisions.visibilitySql('SocialCareCase', table));
    const { sql: text, params } = query.toSQL();
    expect(text).not.toContain(hostile);
    expect(params).toEqual(expect.arrayContaining([wcc, kc, hostile]));
    // And it runs: no record has that category, so exactly the caller's own records show.
    const own = await database.db.select({ id: table.id! }).from(table).where(eq(table.ownerOrg!, wcc));
    expect(own.length).toBeGreaterThan(0);
    expect((await query).map((r) => r.id).sort()).toEqual(own.map((r) => r.id).sort());
  });
});
