/**
 * fast-check generators for decision properties: agreement sets (several ids and versions,
 * every status reachable), callers, `where` conditions of every operator on every field kind
 * (and `subject.ageYears`), and record rows. Plus a reference model of CONTRACT §4 written
 * independently of the decision index, as slow and plain as possible, for the index to match.
 */
import fc from 'fast-check';
import {
  canonicalJson,
  payloadHash,
  subjectAgeField,
  validateAgreement,
  type AgreementDocument,
  type DecisionCaller,
  type IndexableAgreement,
  type WhereCondition,
  type WhereValue,
} from '../../src/agreements/index.js';
import { recordTypeList, recordTypes, type FieldKind, type RecordType } from '../../src/records/index.js';

export const propertyOrgs = ['kensington-chelsea', 'westminster', 'met-police', 'camden'] as const;
export const propertyRoles = ['social-worker', 'safeguarding-lead', 'mash-officer', 'dpo'] as const;
export const propertyPurposes = ['p-one', 'p-two', 'p-three'] as const;
export const recordTypeNames = recordTypeList.map((info) => info.name);

/** Instants around the generated validity bounds, so every status and boundary occurs. */
export const instants = ['2025-06-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-06-01T12:00:00Z', '2026-07-01T00:00:00Z', '2027-01-01T00:00:00Z', '2028-06-01T00:00:00Z'];
const validFroms = ['2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-06-01T12:00:00Z', '2026-07-01T00:00:00Z'];
const validUntils = ['2026-05-01T00:00:00Z', '2026-06-01T12:00:00Z', '2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z'];
const reviewDates = ['2026-05-31', '2026-06-01', '2026-12-31', '2027-06-30'];

/** The small pool of values each field kind draws from: rows and conditions share it, so conditions often hold. */
export function valuesOf(kind: FieldKind): readonly WhereValue[] {
  switch (kind.type) {
    case 'string':
      return ['alpha', 'beta', 'W2 1AA'];
    case 'enum':
      return kind.values;
    case 'date':
      return ['2008-06-01', '2012-02-29', '2020-01-01', '2026-06-01'];
    case 'int':
      return [0, 7, 9, 11];
    case 'float':
      return [0, 85.5, 90, 99.9];
    case 'boolean':
      return [true, false];
  }
}

const ageKind: FieldKind = { type: 'int', min: 0, max: 200 };
const ageValues = [0, 15, 17, 18, 30];

function opsOf(kind: FieldKind): readonly ('eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in')[] {
  switch (kind.type) {
    case 'string':
    case 'enum':
      return ['eq', 'ne', 'in'];
    case 'boolean':
      return ['eq', 'ne'];
    default:
      return ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in'];
  }
}

function leafArbitrary(recordType: RecordType): fc.Arbitrary<WhereCondition> {
  const fields = [...recordTypes[recordType].fields.map((f) => ({ name: f.name, kind: f.kind, values: valuesOf(f.kind) })), { name: subjectAgeField, kind: ageKind, values: ageValues }];
  return fc.constantFrom(...fields).chain(({ name, kind, values }) =>
    fc.constantFrom(...opsOf(kind)).chain((op): fc.Arbitrary<WhereCondition> =>
      op === 'in'
        ? fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 }).map((value) => ({ field: name, op, value }))
        : fc.constantFrom(...values).map((value) => ({ field: name, op, value })),
    ),
  );
}

/** Random conditions for one record type: leaves, all / any / not, up to three levels. */
export function whereArbitrary(recordType: RecordType): fc.Arbitrary<WhereCondition> {
  const { condition } = fc.letrec<{ condition: WhereCondition }>((tie) => ({
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true, maxDepth: 3 },
      leafArbitrary(recordType),
      fc.array(tie('condition'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
      fc.array(tie('condition'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
      tie('condition').map((not) => ({ not })),
    ),
  }));
  return condition;
}

const scopeEntryArbitrary = fc.constantFrom(...recordTypeNames).chain((recordType) =>
  fc.record(
    {
      recordType: fc.constant(recordType),
      fields: fc.subarray(recordTypes[recordType].fields.map((f) => f.name), { minLength: 1 }),
      where: whereArbitrary(recordType),
    },
    { requiredKeys: ['recordType', 'fields'] },
  ),
);

const documentArbitrary = fc
  .record({
    id: fc.constantFrom('isa-a', 'isa-b', 'isa-c'),
    version: fc.integer({ min: 1, max: 3 }),
    provider: fc.constantFrom(...propertyOrgs),
    recipientOrgs: fc.subarray([...propertyOrgs], { minLength: 1 }),
    recipientRoles: fc.array(fc.option(fc.subarray([...propertyRoles], { minLength: 1 }), { nil: undefined }), { minLength: 4, maxLength: 4 }),
    purposes: fc.subarray([...propertyPurposes], { minLength: 1 }),
    scope: fc.array(scopeEntryArbitrary, { minLength: 1, maxLength: 4 }),
    breakGlass: fc.option(fc.record({ allowed: fc.boolean(), roles: fc.subarray([...propertyRoles], { minLength: 1 }) }), { nil: undefined }),
    validFrom: fc.constantFrom(...validFroms),
    validUntil: fc.constantFrom(...validUntils),
    reviewBy: fc.option(fc.constantFrom(...reviewDates), { nil: undefined }),
  })
  .filter((d) => d.recipientOrgs.some((org) => org !== d.provider) && Date.parse(d.validUntil) > Date.parse(d.validFrom))
  .map((d): AgreementDocument => {
    const json = JSON.parse(
      JSON.stringify({
        type: 'accord.isa/v1',
        id: d.id,
        version: d.version,
        title: `${d.id} v${d.version}`,
        provider: d.provider,
        recipients: d.recipientOrgs.filter((org) => org !== d.provider).map((org, i) => ({ org, roles: d.recipientRoles[i] })),
        purposes: d.purposes.map((code) => ({ code })),
        lawfulBasis: { article6: 'public-task', article9: 'substantial-public-interest', article10: 'dpa2018-sch1-pt2-para18' },
        dataSubjects: ['children'],
        scope: d.scope,
        breakGlass: d.breakGlass,
        validFrom: d.validFrom,
        validUntil: d.validUntil,
        reviewBy: d.reviewBy,
        retention: 'P1Y',
      }),
    ) as unknown;
    // Every generated document is one the hub would accept.
    return validateAgreement(json, { isRegisteredOrg: () => true });
  });

/** Agreement sets: up to `maxLength` versions over three ids, some revoked. */
export function agreementSetArbitrary(maxLength = 8): fc.Arbitrary<IndexableAgreement[]> {
  return fc
    .uniqueArray(fc.record({ document: documentArbitrary, revoked: fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 4 },
          { arbitrary: fc.constantFrom('2025-12-01T00:00:00Z', '2026-06-01T12:00:00Z'), weight: 1 },
        ) }), {
      maxLength,
      selector: (a) => `${a.document.id}@${a.document.version}`,
    })
    .map((set) =>
      set.map(({ document, revoked }) => ({
        document,
        payloadHash: payloadHash(canonicalJson(document)),
        revokedAt: revoked === undefined ? null : new Date(revoked),
      })),
    );
}

export const callerArbitrary: fc.Arbitrary<DecisionCaller> = fc.record({
  org: fc.constantFrom(...propertyOrgs),
  purpose: fc.constantFrom(...propertyPurposes),
  roles: fc.subarray([...propertyRoles]),
  breakGlass: fc.option(fc.constant({ reason: 'Child reported missing tonight, whereabouts unknown' }), { nil: undefined }),
});

/** A record row of `recordType` as drizzle returns it: `ownerOrg` and camelCase fields, null for no value. */
export function rowArbitrary(recordType: RecordType): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(recordTypes[recordType].fields.map((f) => [f.name, fc.option(fc.constantFrom(...valuesOf(f.kind)), { nil: null, freq: 4 })]));
  return fc.record({ ownerOrg: fc.constantFrom(...propertyOrgs), ...fields });
}

// ---------------------------------------------------------------------------------------------
// The reference model: CONTRACT §3 and §4 read literally.

/** Two-valued: a comparison with no value is false. */
export function holds(condition: WhereCondition, row: Readonly<Record<string, unknown>>, age: number | undefined): boolean {
  if ('all' in condition) return condition.all.every((c) => holds(c, row, age));
  if ('any' in condition) return condition.any.some((c) => holds(c, row, age));
  if ('not' in condition) return !holds(condition.not, row, age);
  const value = condition.field === subjectAgeField ? age : row[condition.field];
  if (value === null || value === undefined) return false;
  const v = value as WhereValue;
  switch (condition.op) {
    case 'in':
      return condition.value.includes(v);
    case 'eq':
      return v === condition.value;
    case 'ne':
      return v !== condition.value;
    case 'lt':
      return v < condition.value;
    case 'lte':
      return v <= condition.value;
    case 'gt':
      return v > condition.value;
    case 'gte':
      return v >= condition.value;
  }
}

/**
 * Whether a version decides at `now`: not revoked, inside its window and review date, and no
 * higher version of its id has taken effect (validFrom passed, not revoked before it).
 */
export function inForce(agreement: IndexableAgreement, all: readonly IndexableAgreement[], now: Date): boolean {
  const t = now.getTime();
  const d = agreement.document;
  if (agreement.revokedAt !== null) return false;
  if (t < Date.parse(d.validFrom) || t > Date.parse(d.validUntil)) return false;
  if (d.reviewBy !== undefined && t >= Date.parse(`${d.reviewBy}T00:00:00Z`) + 86_400_000) return false;
  const tookEffect = (h: IndexableAgreement) => {
    const from = Date.parse(h.document.validFrom);
    return t >= from && (h.revokedAt === null || new Date(h.revokedAt).getTime() > from);
  };
  return !all.some((h) => h.document.id === d.id && h.document.version > d.version && tookEffect(h));
}

/** The fields CONTRACT §4 allows: the union of every matching in-force scope entry (normal or break-glass). */
export function allowedFields(
  agreements: readonly IndexableAgreement[],
  caller: DecisionCaller,
  recordType: RecordType,
  row: Readonly<Record<string, unknown>>,
  age: number | undefined,
  now: Date,
): { fields: Set<string>; citable: Set<string> } {
  const fields = new Set<string>();
  const citable = new Set<string>();
  if (row.ownerOrg === caller.org) return { fields: new Set(recordTypes[recordType].fields.map((f) => f.name)), citable };
  for (const agreement of agreements) {
    const d = agreement.document;
    if (d.provider !== row.ownerOrg || !inForce(agreement, agreements, now)) continue;
    const recipient = d.recipients.find((r) => r.org === caller.org);
    if (recipient === undefined) continue;
    const roleOk = recipient.roles === undefined || recipient.roles.length === 0 || recipient.roles.some((r) => caller.roles.includes(r));
    const purposeOk = d.purposes.some((p) => p.code === caller.purpose);
    const glass = caller.breakGlass !== undefined && d.breakGlass?.allowed === true && (d.breakGlass.roles ?? []).some((r) => caller.roles.includes(r));
    for (const entry of d.scope) {
      if (entry.recordType !== recordType) continue;
      const normal = roleOk && purposeOk && (entry.where === undefined || holds(entry.where, row, age));
      if (normal || glass) {
        for (const field of entry.fields) fields.add(field);
        citable.add(`${d.id}@${d.version}`);
      }
    }
  }
  return { fields, citable };
}

export interface DecisionScenario {
  readonly agreements: IndexableAgreement[];
  readonly caller: DecisionCaller;
  readonly now: Date;
  readonly age: number | undefined;
  readonly recordType: RecordType;
  readonly row: Record<string, unknown>;
}

/**
 * A caller and a record aimed at one of the agreements (its recipient, mostly its purpose and
 * roles, its provider's record of a scoped type), so that most scenarios exercise a real match
 * rather than an unrelated organisation; one in four is entirely random.
 */
export function scenarioArbitrary(maxAgreements = 8): fc.Arbitrary<DecisionScenario> {
  const random = fc.constantFrom(...recordTypeNames).chain((recordType) =>
    fc.record({ caller: callerArbitrary, recordType: fc.constant<RecordType>(recordType), row: rowArbitrary(recordType) }),
  );
  return agreementSetArbitrary(maxAgreements).chain((agreements) => {
    const aimed =
      agreements.length === 0
        ? random
        : fc.constantFrom(...agreements).chain(({ document }) =>
            fc
              .record({
                recipient: fc.constantFrom(...document.recipients),
                entry: fc.constantFrom(...document.scope),
                purpose: fc.oneof({ arbitrary: fc.constantFrom(...document.purposes.map((p) => p.code)), weight: 3 }, { arbitrary: fc.constantFrom(...propertyPurposes), weight: 1 }),
                extraRoles: fc.subarray([...propertyRoles], { maxLength: 1 }),
                breakGlass: callerArbitrary.map((c) => c.breakGlass),
              })
              .chain(({ recipient, entry, purpose, extraRoles, breakGlass }) =>
                fc.record({
                  caller: fc.subarray([...(recipient.roles ?? [])], { minLength: recipient.roles === undefined ? 0 : 1 }).map((roles) => ({ org: recipient.org, purpose, roles: [...roles, ...extraRoles], breakGlass })),
                  recordType: fc.constant<RecordType>(entry.recordType),
                  row: rowArbitrary(entry.recordType).map((row) => ({ ...row, ownerOrg: document.provider })),
                }),
              ),
          );
    return fc.record({
      agreements: fc.constant(agreements),
      // Mostly the instant at which most generated versions are in force; the others reach every status.
      now: fc.oneof({ arbitrary: fc.constant('2026-06-01T12:00:00Z'), weight: 2 }, { arbitrary: fc.constantFrom(...instants), weight: 1 }).map((t) => new Date(t)),
      age: fc.option(fc.constantFrom(...ageValues), { nil: undefined }),
      pick: fc.oneof({ arbitrary: aimed, weight: 3 }, { arbitrary: random, weight: 1 }),
    }).map(({ agreements: set, now, age, pick }) => ({ agreements: set, now, age, ...pick }));
  });
}
