/**
 * Agreements and records for decision tests, built as data: every document passes
 * `validateAgreement` (so a test never decides over a document the hub would refuse), and
 * record rows are written to and read back from a real database the way the record loader does.
 */
import { eq, getTableColumns } from 'drizzle-orm';
import {
  canonicalJson,
  payloadHash,
  subjectAgeSql,
  validateAgreement,
  type AgreementDocument,
  type DecisionCaller,
  type IndexableAgreement,
  type ScopeEntry,
} from '../../src/agreements/index.js';
import { tables, type Db } from '../../src/db/index.js';
import { recordTypes, type RecordType } from '../../src/records/index.js';

export const kc = 'kensington-chelsea';
export const wcc = 'westminster';
export const met = 'met-police';
export const camden = 'camden';
export const orgs = [kc, wcc, met, camden] as const;

export const purpose = 'safeguarding-children';

/** The default agreement: kc shares Demographics and children's social care with wcc and met. */
export function isa(overrides: Partial<Record<keyof AgreementDocument, unknown>> = {}): AgreementDocument {
  const document = {
    type: 'accord.isa/v1',
    id: 'mash',
    version: 1,
    title: 'MASH',
    provider: kc,
    recipients: [
      { org: wcc, roles: ['social-worker', 'safeguarding-lead'] },
      { org: met, roles: ['mash-officer'] },
    ],
    purposes: [{ code: purpose }],
    lawfulBasis: { article6: 'public-task', article9: 'substantial-public-interest', article10: 'dpa2018-sch1-pt2-para18' },
    dataSubjects: ['children'],
    scope: [
      { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth'] },
      { recordType: 'SocialCareCase', fields: ['caseRef', 'service', 'status'], where: { field: 'service', op: 'eq', value: 'CHILDREN' } },
    ] satisfies ScopeEntry[],
    breakGlass: { allowed: true, roles: ['safeguarding-lead'] },
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2027-12-31T23:59:59Z',
    reviewBy: '2027-06-30',
    retention: 'P2Y',
    ...overrides,
  };
  // Drop keys overridden with undefined (e.g. no reviewBy), as JSON would.
  const json = JSON.parse(JSON.stringify(document)) as unknown;
  return validateAgreement(json, { isRegisteredOrg: () => true });
}

/** An agreement version as the decision index reads it from the store. */
export function indexed(document: AgreementDocument, revokedAt: Date | string | null = null): IndexableAgreement {
  return { document, payloadHash: payloadHash(canonicalJson(document)), revokedAt: revokedAt === null ? null : new Date(revokedAt) };
}

export function caller(overrides: Partial<DecisionCaller> = {}): DecisionCaller {
  return { org: wcc, purpose, roles: ['social-worker'], breakGlass: undefined, ...overrides };
}

export const breakGlass = { reason: 'Child reported missing tonight, whereabouts unknown' };

/** Registers the test organisations (records reference them). */
export async function registerOrgs(db: Db): Promise<void> {
  for (const id of orgs) await db.insert(tables.organisations).values({ id, name: id, kind: 'COUNCIL' }).onConflictDoNothing();
}

let sequence = 0;

/**
 * Writes one record (and the subject) and returns its id. `fields` are the type's own fields in
 * drizzle's camelCase shape.
 */
export async function insertRecord(db: Db, recordType: RecordType, owner: string, nhsNumber: string, fields: Readonly<Record<string, unknown>>): Promise<string> {
  await db.insert(tables.subjects).values({ nhsNumber }).onConflictDoNothing();
  sequence += 1;
  const { table } = recordTypes[recordType];
  const [row] = (await db
    .insert(table)
    .values({ ownerOrg: owner, externalId: `ext-${sequence}`, nhsNumber, ...fields } as never)
    .returning({ id: table.id! })) as { id: string }[];
  if (row === undefined) throw new TypeError('insert returned no row');
  return row.id;
}

/**
 * Reads one record back as the record loader does when a decision depends on the subject's age:
 * every column plus `subjectAgeYears` computed by `subjectAgeSql` at `now`.
 */
export async function loadRecord(db: Db, recordType: RecordType, id: string, now: Date): Promise<{ row: Record<string, unknown>; age: number | undefined }> {
  const { table } = recordTypes[recordType];
  const [row] = (await db
    .select({ ...getTableColumns(table), subjectAgeYears: subjectAgeSql(table, now) })
    .from(table)
    .where(eq(table.id!, id))) as Record<string, unknown>[];
  if (row === undefined) throw new TypeError(`record ${id} not found`);
  const age = row.subjectAgeYears;
  return { row, age: typeof age === 'number' ? age : undefined };
}
