/**
 * The drizzle table definitions: the single source from which drizzle-kit writes the
 * migrations in drizzle/. Column names are snake_case in SQL and camelCase in TypeScript.
 */
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const day = (name: string) => date(name, { mode: 'string' });

export const organisations = pgTable('organisations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind').notNull(),
  /** Per-organisation request rate (token bucket); null: the hub's configured default. */
  rateLimitPerSecond: integer('rate_limit_per_second'),
  rateLimitBurst: integer('rate_limit_burst'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

/**
 * Public keys of an organisation. Replacing a key set retires the old keys rather than deleting
 * them, so signatures they made (agreements, revocations) stay verifiable later.
 */
export const organisationKeys = pgTable(
  'organisation_keys',
  {
    orgId: text('org_id').notNull().references(() => organisations.id),
    kid: text('kid').notNull(),
    jwk: jsonb('jwk').$type<Record<string, unknown>>().notNull(),
    addedAt: timestamptz('added_at').notNull().defaultNow(),
    retiredAt: timestamptz('retired_at'),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.kid] })],
);

export const subjects = pgTable('subjects', {
  nhsNumber: text('nhs_number').primaryKey(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
});

/** Columns every record table shares: the `Record` interface of CONTRACT §5. */
function recordColumns() {
  return {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    ownerOrg: text('owner_org').notNull().references(() => organisations.id),
    externalId: text('external_id').notNull(),
    nhsNumber: text('nhs_number').notNull().references(() => subjects.nhsNumber),
    recordedAt: timestamptz('recorded_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  };
}

/** Upsert key (owner, externalId); lookups by subject and by owner are indexed. */
function recordIndexes(name: string, t: { ownerOrg: AnyPgColumn; externalId: AnyPgColumn; nhsNumber: AnyPgColumn }) {
  return [
    uniqueIndex(`${name}_owner_external_uq`).on(t.ownerOrg, t.externalId),
    index(`${name}_subject_idx`).on(t.nhsNumber, t.ownerOrg),
    index(`${name}_owner_idx`).on(t.ownerOrg),
  ];
}

export const demographics = pgTable(
  'demographics',
  {
    ...recordColumns(),
    givenName: text('given_name'),
    familyName: text('family_name'),
    dateOfBirth: day('date_of_birth'),
    postcode: text('postcode'),
    addressLine: text('address_line'),
  },
  (t) => recordIndexes('demographics', t),
);

export const socialCareCases = pgTable(
  'social_care_cases',
  {
    ...recordColumns(),
    caseRef: text('case_ref'),
    service: text('service'),
    status: text('status'),
    category: text('category'),
    openedOn: day('opened_on'),
    closedOn: day('closed_on'),
    leadWorker: text('lead_worker'),
    summary: text('summary'),
  },
  (t) => recordIndexes('social_care_cases', t),
);

export const schoolEnrolments = pgTable(
  'school_enrolments',
  {
    ...recordColumns(),
    schoolUrn: text('school_urn'),
    schoolName: text('school_name'),
    yearGroup: integer('year_group'),
    startedOn: day('started_on'),
    attendancePercent: doublePrecision('attendance_percent'),
    exclusionsThisYear: integer('exclusions_this_year'),
  },
  (t) => recordIndexes('school_enrolments', t),
);

export const housingTenancies = pgTable(
  'housing_tenancies',
  {
    ...recordColumns(),
    tenancyRef: text('tenancy_ref'),
    addressLine: text('address_line'),
    postcode: text('postcode'),
    startedOn: day('started_on'),
    endedOn: day('ended_on'),
    rentArrears: boolean('rent_arrears'),
  },
  (t) => recordIndexes('housing_tenancies', t),
);

export const policeNotifications = pgTable(
  'police_notifications',
  {
    ...recordColumns(),
    reference: text('reference'),
    kind: text('kind'),
    occurredOn: day('occurred_on'),
    riskLevel: text('risk_level'),
    summary: text('summary'),
  },
  (t) => recordIndexes('police_notifications', t),
);

export const gpRegistrations = pgTable(
  'gp_registrations',
  {
    ...recordColumns(),
    practiceOdsCode: text('practice_ods_code'),
    practiceName: text('practice_name'),
    registeredOn: day('registered_on'),
  },
  (t) => recordIndexes('gp_registrations', t),
);

/**
 * Every submitted agreement version. The envelope is kept exactly as received so anyone can
 * re-verify the signatures later; `payloadHash` (SHA-256 of the JCS payload) is what audit
 * events cite. Status is never stored: it is computed from these columns and a clock.
 */
export const agreements = pgTable(
  'agreements',
  {
    id: text('id').notNull(),
    version: integer('version').notNull(),
    provider: text('provider').notNull().references(() => organisations.id),
    title: text('title').notNull(),
    document: jsonb('document').$type<Record<string, unknown>>().notNull(),
    envelope: jsonb('envelope').$type<Record<string, unknown>>().notNull(),
    payloadHash: text('payload_hash').notNull(),
    validFrom: timestamptz('valid_from').notNull(),
    validUntil: timestamptz('valid_until').notNull(),
    reviewBy: day('review_by'),
    submittedAt: timestamptz('submitted_at').notNull().defaultNow(),
    submittedBy: text('submitted_by').notNull(),
    revokedAt: timestamptz('revoked_at'),
    revokedBy: text('revoked_by'),
    revocationReason: text('revocation_reason'),
    revocation: text('revocation'),
  },
  (t) => [primaryKey({ columns: [t.id, t.version] }), index('agreements_provider_idx').on(t.provider)],
);

/**
 * Monotonic counters that other hub instances poll to notice changes (e.g. `agreements`:
 * bumped in the same transaction as every submit or revoke).
 */
export const hubState = pgTable('hub_state', {
  key: text('key').primaryKey(),
  generation: bigint('generation', { mode: 'number' }).notNull().default(0),
});

/**
 * The audit trail (CONTRACT §7). Append-only: a trigger added in the migrations refuses
 * UPDATE, DELETE and TRUNCATE. `seq` is assigned by the writer under an advisory lock so the
 * chain stays gapless across hub instances.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    id: uuid('id').notNull().unique(),
    at: timestamptz('at').notNull(),
    requestId: text('request_id').notNull(),
    actorOrg: text('actor_org'),
    actorUser: text('actor_user'),
    actorRoles: jsonb('actor_roles').$type<string[]>().notNull(),
    purpose: text('purpose'),
    caseRef: text('case_ref'),
    action: text('action').notNull(),
    ownerOrg: text('owner_org'),
    recordType: text('record_type'),
    recordId: text('record_id'),
    nhsNumber: text('nhs_number'),
    fields: jsonb('fields').$type<string[]>().notNull(),
    agreements: jsonb('agreements').$type<{ id: string; version: number; payloadHash: string }[]>().notNull(),
    outcome: text('outcome').notNull(),
    operationName: text('operation_name'),
    queryHash: text('query_hash'),
    sensitivity: text('sensitivity'),
    details: jsonb('details').$type<Record<string, unknown>>(),
    /**
     * The records the event concerns (CONTRACT §7). NULL on events written before events listed
     * their records: those keep their one record in record_type, record_id, fields and agreements.
     */
    records: jsonb('records').$type<{ recordType: string; recordId: string | null; fields: string[]; withheld: string[]; agreements: { id: string; version: number; payloadHash: string }[] }[]>(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_events_at_idx').on(t.at),
    index('audit_events_subject_idx').on(t.nhsNumber, t.seq),
    index('audit_events_actor_idx').on(t.actorOrg, t.seq),
    index('audit_events_owner_idx').on(t.ownerOrg, t.seq),
  ],
);

/** Signed checkpoints `{seq, hash, at}` of the chain, as compact JWS by a hub key. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  hash: text('hash').notNull(),
  at: timestamptz('at').notNull(),
  kid: text('kid').notNull(),
  jws: text('jws').notNull(),
});

/** Public halves of the hub's own signing keys; retired keys stay published. */
export const hubKeys = pgTable('hub_keys', {
  kid: text('kid').primaryKey(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  retiredAt: timestamptz('retired_at'),
});

/** Token ids seen within their lifetime, so a replay is refused on every hub instance. */
export const tokenReplays = pgTable(
  'token_replays',
  {
    iss: text('iss').notNull(),
    jti: text('jti').notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.iss, t.jti] }), index('token_replays_expires_idx').on(t.expiresAt)],
);

/**
 * Live hub instances sharing this database, each refreshing `lastSeenAt` on a heartbeat. Lets
 * per-instance limits (rate limits) divide a partnership-wide budget by the number of instances
 * without a round trip per request.
 */
export const hubInstances = pgTable('hub_instances', {
  id: text('id').primaryKey(),
  startedAt: timestamptz('started_at').notNull(),
  lastSeenAt: timestamptz('last_seen_at').notNull(),
});
