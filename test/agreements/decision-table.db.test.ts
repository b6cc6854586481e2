/**
 * The decision table (CONTRACT §4): each case is an agreement set, a caller, an instant and one
 * record written to a real database. Both decision paths are checked on every case: `decide()`
 * on the row read back as the record loader reads it (with `subjectAgeSql`), and the SQL filter
 * `visibilitySql` applied by the database to that same row. They must agree with the table and
 * with each other.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDecisionIndex, type DecisionCaller, type IndexableAgreement } from '../../src/agreements/index.js';
import { recordTypes, type RecordType } from '../../src/records/index.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { breakGlass, caller, camden, indexed, insertRecord, isa, kc, loadRecord, met, registerOrgs, wcc } from './decision-fixtures.js';

interface Shown {
  readonly fields: readonly string[];
  /** `id@version` of each agreement cited, in any order. */
  readonly sharedUnder: readonly string[];
  /** Fields released only by break-glass (default none). */
  readonly breakGlassFields?: readonly string[];
}

interface Case {
  readonly name: string;
  readonly agreements: readonly IndexableAgreement[];
  readonly caller?: Partial<DecisionCaller>;
  readonly now?: string;
  readonly type: RecordType;
  /** Default: kensington-chelsea. */
  readonly owner?: string;
  readonly record: Readonly<Record<string, unknown>>;
  /** Dates of birth in the owner's Demographics for the record's subject (for `subject.ageYears`). */
  readonly datesOfBirth?: readonly string[];
  readonly expected: Shown | 'hidden';
}

const demographics = { givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: '2012-03-04', postcode: 'W2 1AA', addressLine: '1 High St' };
const allDemographics = ['givenName', 'familyName', 'dateOfBirth', 'postcode', 'addressLine'];
const agreedDemographics = ['givenName', 'familyName', 'dateOfBirth'];
const careCase = (service: string | null, status: string | null = 'OPEN') => ({ caseRef: 'SC-1', service, status, category: 'neglect', summary: 'x' });
const agreedCare = ['caseRef', 'service', 'status'];

const mash = isa();
const mashNoReview = isa({ reviewBy: undefined });
const scoped = (scope: unknown, more: Record<string, unknown> = {}) => isa({ scope, ...more });
const onSocialCare = (where: unknown) => scoped([{ recordType: 'SocialCareCase', fields: agreedCare, where }]);
const onPolice = (where: unknown) => scoped([{ recordType: 'PoliceNotification', fields: ['reference', 'kind'], where }]);
const onSchool = (where: unknown) => scoped([{ recordType: 'SchoolEnrolment', fields: ['schoolName', 'yearGroup'], where }]);
const onHousing = (where: unknown) => scoped([{ recordType: 'HousingTenancy', fields: ['tenancyRef', 'rentArrears'], where }]);
const under18 = scoped([{ recordType: 'Demographics', fields: ['givenName'], where: { field: 'subject.ageYears', op: 'lt', value: 18 } }]);
const v2Given = isa({ version: 2, scope: [{ recordType: 'Demographics', fields: ['givenName'] }] });
const shown = (fields: readonly string[], sharedUnder: readonly string[] = ['mash@1'], breakGlassFields?: readonly string[]): Shown =>
  breakGlassFields === undefined ? { fields, sharedUnder } : { fields, sharedUnder, breakGlassFields };
// The validator refuses `roles: []` now; an earlier hub stored it, so the index must still read it.
const storedWithEmptyRoles = { ...mash, recipients: [{ org: wcc, roles: [] }] };
const emergency = { breakGlass, roles: ['safeguarding-lead'], purpose: 'housing-allocation' };

const cases: Case[] = [
  // Organisation
  { name: 'recipient reads the provider’s agreed fields', agreements: [indexed(mash)], type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  { name: 'the owner sees all its own fields with no agreement at all', agreements: [], caller: { org: kc, roles: [] }, type: 'Demographics', record: demographics, expected: shown(allDemographics, []) },
  { name: 'the owner sees its own record that no where would share', agreements: [indexed(mash)], caller: { org: kc, roles: [], purpose: 'anything' }, type: 'SocialCareCase', record: careCase('ADULTS'), expected: shown(Object.keys(careCase('ADULTS')).concat('openedOn', 'closedOn', 'leadWorker'), []) },
  { name: 'an organisation that is not a recipient sees nothing', agreements: [indexed(mash)], caller: { org: camden }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'a record of another owner is not shared by the provider’s agreement', agreements: [indexed(mash)], owner: camden, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'sharing is one way: the provider does not see the recipient’s records', agreements: [indexed(mash)], caller: { org: kc }, owner: wcc, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'the second recipient with its own role', agreements: [indexed(mash)], caller: { org: met, roles: ['mash-officer'] }, type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  // Purpose
  { name: 'another purpose sees nothing', agreements: [indexed(mash)], caller: { purpose: 'housing-allocation' }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'any of the agreement’s purposes', agreements: [indexed(isa({ purposes: [{ code: 'safeguarding-adults' }, { code: 'housing-allocation' }] }))], caller: { purpose: 'housing-allocation' }, type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  // Roles
  { name: 'a role not in the recipient entry sees nothing', agreements: [indexed(mash)], caller: { roles: ['dpo'] }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'no roles at all sees nothing when the entry lists roles', agreements: [indexed(mash)], caller: { roles: [] }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'one matching role among several is enough', agreements: [indexed(mash)], caller: { roles: ['dpo', 'safeguarding-lead'] }, type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  { name: 'a recipient entry without roles admits any role', agreements: [indexed(isa({ recipients: [{ org: wcc }] }))], caller: { roles: [] }, type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  // Refused on submission now; stored by earlier hubs, which read it as "any role". Fail closed.
  { name: 'a stored recipient entry with an empty roles list admits no role', agreements: [indexed(storedWithEmptyRoles)], caller: { roles: ['social-worker'] }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'a stored empty roles list admits a caller with no roles neither', agreements: [indexed(storedWithEmptyRoles)], caller: { roles: [] }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'roles of another recipient’s entry do not count', agreements: [indexed(mash)], caller: { org: met, roles: ['social-worker'] }, type: 'Demographics', record: demographics, expected: 'hidden' },
  // Record type and field
  { name: 'a record type outside the scope', agreements: [indexed(mash)], type: 'GpRegistration', record: { practiceOdsCode: 'A1', practiceName: 'P', registeredOn: '2020-01-01' }, expected: 'hidden' },
  { name: 'criminal-offence data outside the scope', agreements: [indexed(mash)], type: 'PoliceNotification', record: { reference: 'R', kind: 'OTHER' }, expected: 'hidden' },
  { name: 'only the listed fields of a scoped type', agreements: [indexed(scoped([{ recordType: 'Demographics', fields: ['postcode'] }]))], type: 'Demographics', record: demographics, expected: shown(['postcode']) },
  // Where: equality, null, not, in, all, dates, booleans, subject age
  { name: 'where service = CHILDREN holds', agreements: [indexed(mash)], type: 'SocialCareCase', record: careCase('CHILDREN'), expected: shown(agreedCare) },
  { name: 'where service = CHILDREN fails for ADULTS', agreements: [indexed(mash)], type: 'SocialCareCase', record: careCase('ADULTS'), expected: 'hidden' },
  { name: 'a comparison with a missing value is false', agreements: [indexed(mash)], type: 'SocialCareCase', record: careCase(null), expected: 'hidden' },
  { name: 'not (status = CLOSED) on an open case', agreements: [indexed(onSocialCare({ not: { field: 'status', op: 'eq', value: 'CLOSED' } }))], type: 'SocialCareCase', record: careCase('ADULTS', 'OPEN'), expected: shown(agreedCare) },
  { name: 'not (status = CLOSED) on a closed case', agreements: [indexed(onSocialCare({ not: { field: 'status', op: 'eq', value: 'CLOSED' } }))], type: 'SocialCareCase', record: careCase('ADULTS', 'CLOSED'), expected: 'hidden' },
  { name: 'not (status = CLOSED) with no status: the comparison is false, so its negation holds', agreements: [indexed(onSocialCare({ not: { field: 'status', op: 'eq', value: 'CLOSED' } }))], type: 'SocialCareCase', record: careCase('ADULTS', null), expected: shown(agreedCare) },
  { name: 'ne on a missing value is false too', agreements: [indexed(onSocialCare({ field: 'status', op: 'ne', value: 'CLOSED' }))], type: 'SocialCareCase', record: careCase('ADULTS', null), expected: 'hidden' },
  { name: 'in holds', agreements: [indexed(onPolice({ field: 'kind', op: 'in', value: ['DOMESTIC_ABUSE', 'MISSING_PERSON'] }))], type: 'PoliceNotification', record: { reference: 'R1', kind: 'MISSING_PERSON' }, expected: shown(['reference', 'kind']) },
  { name: 'in fails', agreements: [indexed(onPolice({ field: 'kind', op: 'in', value: ['DOMESTIC_ABUSE', 'MISSING_PERSON'] }))], type: 'PoliceNotification', record: { reference: 'R1', kind: 'OTHER' }, expected: 'hidden' },
  { name: 'any: one branch is enough', agreements: [indexed(onPolice({ any: [{ field: 'kind', op: 'eq', value: 'CHILD_CONCERN' }, { field: 'riskLevel', op: 'eq', value: 'HIGH' }] }))], type: 'PoliceNotification', record: { reference: 'R2', kind: 'OTHER', riskLevel: 'HIGH' }, expected: shown(['reference', 'kind']) },
  { name: 'all: every branch must hold (both hold)', agreements: [indexed(onSchool({ all: [{ field: 'yearGroup', op: 'gte', value: 7 }, { field: 'attendancePercent', op: 'lt', value: 90 }] }))], type: 'SchoolEnrolment', record: { schoolName: 'S', yearGroup: 9, attendancePercent: 85.5 }, expected: shown(['schoolName', 'yearGroup']) },
  { name: 'all: every branch must hold (one fails)', agreements: [indexed(onSchool({ all: [{ field: 'yearGroup', op: 'gte', value: 7 }, { field: 'attendancePercent', op: 'lt', value: 90 }] }))], type: 'SchoolEnrolment', record: { schoolName: 'S', yearGroup: 9, attendancePercent: 95 }, expected: 'hidden' },
  { name: 'date gte on the boundary day', agreements: [indexed(onSocialCare({ field: 'openedOn', op: 'gte', value: '2025-01-01' }))], type: 'SocialCareCase', record: { ...careCase('ADULTS'), openedOn: '2025-01-01' }, expected: shown(agreedCare) },
  { name: 'date gte the day before', agreements: [indexed(onSocialCare({ field: 'openedOn', op: 'gte', value: '2025-01-01' }))], type: 'SocialCareCase', record: { ...careCase('ADULTS'), openedOn: '2024-12-31' }, expected: 'hidden' },
  { name: 'boolean eq true holds', agreements: [indexed(onHousing({ field: 'rentArrears', op: 'eq', value: true }))], type: 'HousingTenancy', record: { tenancyRef: 'T1', rentArrears: true }, expected: shown(['tenancyRef', 'rentArrears']) },
  { name: 'boolean eq true fails on false', agreements: [indexed(onHousing({ field: 'rentArrears', op: 'eq', value: true }))], type: 'HousingTenancy', record: { tenancyRef: 'T1', rentArrears: false }, expected: 'hidden' },
  { name: 'subject.ageYears < 18 for a 16-year-old', agreements: [indexed(under18)], type: 'Demographics', record: { ...demographics, dateOfBirth: '2010-05-01' }, expected: shown(['givenName']) },
  { name: 'subject.ageYears < 18 on the 18th birthday', agreements: [indexed(under18)], type: 'Demographics', record: { ...demographics, dateOfBirth: '2008-06-01' }, expected: 'hidden' },
  { name: 'subject.ageYears < 18 the day before the 18th birthday', agreements: [indexed(under18)], type: 'Demographics', record: { ...demographics, dateOfBirth: '2008-06-02' }, expected: shown(['givenName']) },
  { name: 'subject.ageYears from the owner’s Demographics, on another record type', agreements: [indexed(onSocialCare({ field: 'subject.ageYears', op: 'lt', value: 18 }))], type: 'SocialCareCase', record: careCase('ADULTS'), datesOfBirth: ['2012-01-01'], expected: shown(agreedCare) },
  { name: 'subject.ageYears unknown (no date of birth) makes the comparison false', agreements: [indexed(onSocialCare({ field: 'subject.ageYears', op: 'lt', value: 18 }))], type: 'SocialCareCase', record: careCase('ADULTS'), expected: 'hidden' },
  { name: 'subject.ageYears unknown (two dates of birth disagree)', agreements: [indexed(onSocialCare({ field: 'subject.ageYears', op: 'lt', value: 18 }))], type: 'SocialCareCase', record: careCase('ADULTS'), datesOfBirth: ['2012-01-01', '2013-01-01'], expected: 'hidden' },
  // Status, by dates, revocation and versions
  { name: 'PENDING: a second before validFrom', agreements: [indexed(mash)], now: '2025-12-31T23:59:59Z', type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'ACTIVE from validFrom exactly', agreements: [indexed(mash)], now: '2026-01-01T00:00:00Z', type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  { name: 'ACTIVE at validUntil exactly', agreements: [indexed(mashNoReview)], now: '2027-12-31T23:59:59Z', type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  { name: 'EXPIRED a second after validUntil', agreements: [indexed(mashNoReview)], now: '2028-01-01T00:00:00Z', type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'ACTIVE on the last second of the reviewBy day', agreements: [indexed(mash)], now: '2027-06-30T23:59:59Z', type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  { name: 'SUSPENDED the day after reviewBy', agreements: [indexed(mash)], now: '2027-07-01T00:00:00Z', type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'REVOKED', agreements: [indexed(mash, '2026-03-01T00:00:00Z')], type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'SUPERSEDED: an active v2 decides alone', agreements: [indexed(mash), indexed(v2Given)], type: 'Demographics', record: demographics, expected: shown(['givenName'], ['mash@2']) },
  { name: 'a PENDING v2 leaves v1 ACTIVE', agreements: [indexed(mash), indexed(isa({ version: 2, validFrom: '2026-09-01T00:00:00Z', scope: [{ recordType: 'Demographics', fields: ['givenName'] }] }))], type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  { name: 'revoking v2 after it took effect shares nothing: v1 stays SUPERSEDED', agreements: [indexed(mash), indexed(v2Given, '2026-05-01T00:00:00Z')], type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'a v2 revoked before its validFrom never took effect: v1 stays ACTIVE', agreements: [indexed(mash), indexed(isa({ version: 2, validFrom: '2026-09-01T00:00:00Z', scope: [{ recordType: 'Demographics', fields: ['givenName'] }] }), '2026-05-01T00:00:00Z')], type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  { name: 'an EXPIRED v2 shares nothing, and v1 stays SUPERSEDED', agreements: [indexed(mashNoReview), indexed(isa({ version: 2, reviewBy: undefined, validUntil: '2026-04-30T00:00:00Z' }))], type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'a v2 that drops a recipient ends its sharing', agreements: [indexed(mash), indexed(isa({ version: 2, recipients: [{ org: met, roles: ['mash-officer'] }] }))], type: 'Demographics', record: demographics, expected: 'hidden' },
  // Break-glass
  { name: 'break-glass: the role and a reason release the scoped fields whatever the purpose', agreements: [indexed(mash)], caller: emergency, type: 'Demographics', record: demographics, expected: shown(agreedDemographics, ['mash@1'], agreedDemographics) },
  { name: 'break-glass ignores where', agreements: [indexed(mash)], caller: emergency, type: 'SocialCareCase', record: careCase('ADULTS'), expected: shown(agreedCare, ['mash@1'], agreedCare) },
  { name: 'break-glass without a break-glass role', agreements: [indexed(mash)], caller: { ...emergency, roles: ['social-worker'] }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'break-glass role without the claim (no reason) is just a wrong purpose', agreements: [indexed(mash)], caller: { ...emergency, breakGlass: undefined }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'break-glass where the agreement does not allow it', agreements: [indexed(isa({ breakGlass: { allowed: false } }))], caller: emergency, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'break-glass never reaches outside the scope', agreements: [indexed(mash)], caller: emergency, type: 'GpRegistration', record: { practiceOdsCode: 'A1' }, expected: 'hidden' },
  { name: 'break-glass on a revoked agreement', agreements: [indexed(mash, '2026-03-01T00:00:00Z')], caller: emergency, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'break-glass by a recipient that is not the caller’s organisation', agreements: [indexed(mash)], caller: { ...emergency, org: camden }, type: 'Demographics', record: demographics, expected: 'hidden' },
  { name: 'break-glass when the normal path already shows everything is not marked', agreements: [indexed(mash)], caller: { ...emergency, purpose: 'safeguarding-children' }, type: 'Demographics', record: demographics, expected: shown(agreedDemographics) },
  // Several agreements: a union, each cited
  {
    name: 'two agreements of one provider: union of fields, both cited',
    agreements: [indexed(scoped([{ recordType: 'Demographics', fields: ['givenName'] }], { id: 'names' })), indexed(scoped([{ recordType: 'Demographics', fields: ['familyName', 'postcode'] }], { id: 'addresses' }))],
    type: 'Demographics',
    record: demographics,
    expected: shown(['givenName', 'familyName', 'postcode'], ['names@1', 'addresses@1']),
  },
  {
    name: 'only the agreement whose where holds is cited',
    agreements: [indexed(mash), indexed(scoped([{ recordType: 'SocialCareCase', fields: ['category'] }], { id: 'all-care' }))],
    type: 'SocialCareCase',
    record: careCase('ADULTS'),
    expected: shown(['category'], ['all-care@1']),
  },
  {
    name: 'both where clauses hold: union of both clauses’ fields',
    agreements: [indexed(mash), indexed(scoped([{ recordType: 'SocialCareCase', fields: ['category'], where: { field: 'status', op: 'eq', value: 'OPEN' } }], { id: 'open-care' }))],
    type: 'SocialCareCase',
    record: careCase('CHILDREN'),
    expected: shown(['caseRef', 'service', 'status', 'category'], ['mash@1', 'open-care@1']),
  },
  {
    name: 'an agreement for another purpose adds nothing',
    agreements: [indexed(mash), indexed(scoped([{ recordType: 'Demographics', fields: ['postcode'] }], { id: 'housing', purposes: [{ code: 'housing-allocation' }] }))],
    type: 'Demographics',
    record: demographics,
    expected: shown(agreedDemographics),
  },
  {
    name: 'another provider’s agreement does not open this owner’s records',
    agreements: [indexed(scoped([{ recordType: 'Demographics', fields: ['postcode'] }], { id: 'camden-isa', provider: camden }))],
    type: 'Demographics',
    record: demographics,
    expected: 'hidden',
  },
  {
    name: 'a revoked agreement drops out of the union',
    agreements: [indexed(mash, '2026-02-01T00:00:00Z'), indexed(scoped([{ recordType: 'Demographics', fields: ['postcode'] }], { id: 'addresses' }))],
    type: 'Demographics',
    record: demographics,
    expected: shown(['postcode'], ['addresses@1']),
  },
  {
    name: 'break-glass adds only what the normal path withheld, citing both agreements',
    agreements: [
      indexed(scoped([{ recordType: 'Demographics', fields: ['givenName'] }], { id: 'names', breakGlass: { allowed: false } })),
      indexed(scoped([{ recordType: 'Demographics', fields: ['givenName', 'postcode'] }], { id: 'emergency', purposes: [{ code: 'emergency' }] })),
    ],
    caller: { breakGlass, roles: ['safeguarding-lead'] },
    type: 'Demographics',
    record: demographics,
    expected: shown(['givenName', 'postcode'], ['names@1', 'emergency@1'], ['postcode']),
  },
];

const defaultNow = '2026-06-01T12:00:00Z';

describe('decision table', () => {
  let database: TestDatabase;
  const nhsNumbers = validNhsNumbers(cases.length, 610_000_000);

  beforeAll(async () => {
    database = await createTestDatabase();
    await registerOrgs(database.db);
  });
  afterAll(async () => {
    await database.close();
  });

  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c, index) => [c.name, c, index] as const))('%s', async (_name, testCase, index) => {
    const { db } = database;
    const now = new Date(testCase.now ?? defaultNow);
    const owner = testCase.owner ?? kc;
    const nhsNumber = nhsNumbers[index] as string;
    for (const dateOfBirth of testCase.datesOfBirth ?? []) await insertRecord(db, 'Demographics', owner, nhsNumber, { dateOfBirth });
    const id = await insertRecord(db, testCase.type, owner, nhsNumber, testCase.record);

    const decisions = buildDecisionIndex(testCase.agreements).forCaller(caller(testCase.caller), now);
    const { row, age } = await loadRecord(db, testCase.type, id, now);
    const decision = decisions.decide(testCase.type, row, age);

    const { table } = recordTypes[testCase.type];
    const filtered = await db.select({ id: table.id! }).from(table).where(and(eq(table.id!, id), decisions.visibilitySql(testCase.type, table)));

    if (testCase.expected === 'hidden') {
      expect(decision).toMatchObject({ visible: false, sharedUnder: [] });
      expect([...decision.fields]).toEqual([]);
      expect(filtered).toEqual([]);
      return;
    }
    expect(decision.visible).toBe(true);
    expect([...decision.fields].sort()).toEqual([...testCase.expected.fields].sort());
    expect(decision.sharedUnder.map((ref) => `${ref.id}@${ref.version}`).sort()).toEqual([...testCase.expected.sharedUnder].sort());
    expect([...decision.breakGlassFields].sort()).toEqual([...(testCase.expected.breakGlassFields ?? [])].sort());
    expect(decision.breakGlass).toBe((testCase.expected.breakGlassFields ?? []).length > 0);
    expect(filtered).toEqual([{ id }]);
  });
});
