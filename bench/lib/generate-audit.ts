/**
 * A large audit trail written straight into `audit_events` with COPY: events in the shape the
 * hub's writer stores them (CONTRACT §7: one event per disclosure, its records in the `records`
 * jsonb column, the one-record columns of the earlier shape empty), chained from the genesis hash
 * with the hub's own `hashEvent`, so `verifyChain` finds the chain intact. The append-only
 * triggers refuse only UPDATE, DELETE and TRUNCATE, so COPY is allowed.
 *
 * Optionally the first events are written in the earlier shape (one record per event in
 * record_type, record_id, fields and agreements, `records` NULL, hashed with the 21-key object),
 * as a database upgraded from the previous release holds them.
 *
 * The secondary indexes are dropped for the load and rebuilt afterwards from their own
 * definitions (the usual bulk-load practice; several times faster than maintaining them row by
 * row). The primary key and the unique id stay in place throughout.
 */
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { GENESIS_HASH, hashEvent, type AuditEventBody, type AuditRecordEntry, type LegacyRecordColumns } from '../../src/audit/index.js';
import { copyRows, type CopyValue } from './copy-rows.js';
import { log } from './progress.js';

const columns = [
  'seq', 'id', 'at', 'request_id', 'actor_org', 'actor_user', 'actor_roles', 'purpose', 'case_ref', 'action', 'owner_org', 'record_type',
  'record_id', 'nhs_number', 'fields', 'agreements', 'outcome', 'operation_name', 'query_hash', 'sensitivity', 'details', 'prev_hash', 'hash',
  'records',
];

const readShapes = [
  { ownerOrg: 'kensington-chelsea', recordType: 'SocialCareCase', sensitivity: 'special-category', fields: ['caseRef', 'category', 'service', 'status'], withheld: ['notes'], agreement: 'bench-rbkc-children' },
  { ownerOrg: 'kensington-chelsea', recordType: 'Demographics', sensitivity: 'personal', fields: ['dateOfBirth', 'familyName', 'givenName'], withheld: [], agreement: 'bench-rbkc-children' },
  { ownerOrg: 'met-police', recordType: 'PoliceNotification', sensitivity: 'criminal-offence', fields: ['kind', 'occurredOn', 'reference', 'riskLevel'], withheld: ['officer'], agreement: 'bench-police-notifications' },
  { ownerOrg: 'imperial-nhs', recordType: 'GpRegistration', sensitivity: 'special-category', fields: ['practiceName', 'registeredOn'], withheld: [], agreement: 'bench-gp-registrations' },
] as const;

const denyReason = 'no agreement shares this record type with the caller for this purpose and role';

export interface GenerateAuditOptions {
  /** Records listed by each READ event (default 1: single-record events). */
  readonly recordsPerEvent?: number;
  /** The first this many events are written in the earlier one-record shape (default 0). */
  readonly legacyEvents?: number;
}

/**
 * Writes `count` chained events about `subjects` (round robin, so each subject has about
 * count / subjects.length events), spread over the year before `end`. One event in 20 is a DENY.
 */
export async function generateAuditEvents(
  sql: postgres.Sql,
  count: number,
  subjects: readonly string[],
  end: Date,
  options: GenerateAuditOptions = {},
): Promise<void> {
  const recordsPerEvent = options.recordsPerEvent ?? 1;
  const legacyEvents = options.legacyEvents ?? 0;
  if (!Number.isSafeInteger(recordsPerEvent) || recordsPerEvent < 1) throw new TypeError('recordsPerEvent must be a positive integer');
  const secondary = await sql<{ indexname: string; indexdef: string }[]>`
    select indexname, indexdef from pg_indexes
    where tablename = 'audit_events' and indexname not in ('audit_events_pkey', 'audit_events_id_unique')`;
  for (const index of secondary) await sql.unsafe(`drop index "${index.indexname}"`);

  const payloadHash = 'a3f1'.repeat(16);
  const queryHash = `hmac-sha256:${'b7e2'.repeat(16)}`;
  const startMs = end.getTime() - 365 * 24 * 3600 * 1000;
  const stepMs = (end.getTime() - startMs) / count;
  function* rows(): Generator<CopyValue[]> {
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= count; seq += 1) {
      const nhsNumber = subjects[seq % subjects.length] as string;
      const shape = readShapes[seq % readShapes.length] as (typeof readShapes)[number];
      const deny = seq % 20 === 0;
      const legacy = seq <= legacyEvents;
      const records: AuditRecordEntry[] = deny
        ? [{ recordType: shape.recordType, recordId: null, fields: [], withheld: [], agreements: [] }]
        : Array.from({ length: legacy ? 1 : recordsPerEvent }, () => ({
            recordType: shape.recordType,
            recordId: randomUUID(),
            fields: shape.fields,
            withheld: shape.withheld,
            agreements: [{ id: shape.agreement, version: 1, payloadHash }],
          }));
      const body: AuditEventBody = {
        id: randomUUID(),
        at: new Date(Math.floor(startMs + seq * stepMs)),
        requestId: `bench-${Math.floor(seq / 10)}`,
        actorOrg: 'westminster',
        actorUser: 'bench.social.worker@westminster.example',
        actorRoles: ['social-worker'],
        purpose: 'safeguarding-children',
        caseRef: `WCC-${seq % 5000}`,
        action: deny ? 'DENY' : 'READ',
        ownerOrg: deny ? null : shape.ownerOrg,
        nhsNumber,
        records,
        outcome: deny ? 'DENIED' : 'SUCCESS',
        operationName: 'FullSubject',
        queryHash,
        sensitivity: shape.sensitivity,
        details: deny ? { reason: denyReason } : null,
      };
      const record = records[0] as AuditRecordEntry;
      // The earlier shape kept withheld fields in details and a DENY's record type in record_type.
      const legacyColumns: LegacyRecordColumns | undefined = legacy
        ? { recordType: record.recordType, recordId: record.recordId, fields: record.fields, agreements: record.agreements }
        : undefined;
      const details = legacy && !deny && record.withheld.length > 0 ? { withheld: record.withheld } : body.details;
      const hash = hashEvent(prevHash, { ...body, details, seq, legacy: legacyColumns });
      yield [
        seq, body.id, body.at.toISOString(), body.requestId, body.actorOrg, body.actorUser, JSON.stringify(body.actorRoles), body.purpose, body.caseRef,
        body.action, body.ownerOrg, legacyColumns?.recordType ?? null, legacyColumns?.recordId ?? null, body.nhsNumber,
        JSON.stringify(legacyColumns?.fields ?? []), JSON.stringify(legacyColumns?.agreements ?? []),
        body.outcome, body.operationName, body.queryHash, body.sensitivity, details === null ? null : JSON.stringify(details), prevHash, hash,
        legacy ? null : JSON.stringify(records),
      ];
      prevHash = hash;
    }
  }
  await copyRows(sql, 'audit_events', columns, rows(), { label: 'audit events (hashed and chained)', total: count });

  const started = performance.now();
  for (const index of secondary) await sql.unsafe(index.indexdef);
  log(`audit indexes rebuilt in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await sql`analyze audit_events`;
}
