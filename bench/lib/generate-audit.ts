/**
 * A large audit trail written straight into `audit_events` with COPY: events in the shape the
 * hub's writer stores them (every column of CONTRACT §7, jsonb arrays, details object), chained
 * from the genesis hash with the hub's own `hashEvent`, so `verifyChain` finds the chain intact.
 * The append-only triggers refuse only UPDATE, DELETE and TRUNCATE, so COPY is allowed.
 *
 * The four secondary indexes are dropped for the load and rebuilt afterwards from their own
 * definitions (the usual bulk-load practice; several times faster than maintaining them row by
 * row). The primary key and the unique id stay in place throughout.
 */
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { GENESIS_HASH, hashEvent, type AuditEventBody } from '../../src/audit/index.js';
import { copyRows, type CopyValue } from './copy-rows.js';
import { log } from './progress.js';

const columns = [
  'seq', 'id', 'at', 'request_id', 'actor_org', 'actor_user', 'actor_roles', 'purpose', 'case_ref', 'action', 'owner_org', 'record_type',
  'record_id', 'nhs_number', 'fields', 'agreements', 'outcome', 'operation_name', 'query_hash', 'sensitivity', 'details', 'prev_hash', 'hash',
];

const readShapes = [
  { ownerOrg: 'kensington-chelsea', recordType: 'SocialCareCase', sensitivity: 'special-category', fields: ['caseRef', 'category', 'service', 'status'], agreement: 'bench-rbkc-children' },
  { ownerOrg: 'kensington-chelsea', recordType: 'Demographics', sensitivity: 'personal', fields: ['dateOfBirth', 'familyName', 'givenName'], agreement: 'bench-rbkc-children' },
  { ownerOrg: 'met-police', recordType: 'PoliceNotification', sensitivity: 'criminal-offence', fields: ['kind', 'occurredOn', 'reference', 'riskLevel'], agreement: 'bench-police-notifications' },
  { ownerOrg: 'imperial-nhs', recordType: 'GpRegistration', sensitivity: 'special-category', fields: ['practiceName', 'registeredOn'], agreement: 'bench-gp-registrations' },
] as const;

/**
 * Writes `count` chained events about `subjects` (round robin, so each subject has about
 * count / subjects.length events), spread over the year before `end`.
 */
export async function generateAuditEvents(sql: postgres.Sql, count: number, subjects: readonly string[], end: Date): Promise<void> {
  const secondary = await sql<{ indexname: string; indexdef: string }[]>`
    select indexname, indexdef from pg_indexes
    where tablename = 'audit_events' and indexname not in ('audit_events_pkey', 'audit_events_id_unique')`;
  for (const index of secondary) await sql.unsafe(`drop index "${index.indexname}"`);

  const payloadHash = 'a3f1'.repeat(16);
  const queryHash = 'b7e2'.repeat(16);
  const startMs = end.getTime() - 365 * 24 * 3600 * 1000;
  const stepMs = (end.getTime() - startMs) / count;
  function* rows(): Generator<CopyValue[]> {
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= count; seq += 1) {
      const nhsNumber = subjects[seq % subjects.length] as string;
      const shape = readShapes[seq % readShapes.length] as (typeof readShapes)[number];
      const deny = seq % 20 === 0;
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
        recordType: shape.recordType,
        recordId: deny ? null : randomUUID(),
        nhsNumber,
        fields: deny ? [] : [...shape.fields],
        agreements: deny ? [] : [{ id: shape.agreement, version: 1, payloadHash }],
        outcome: deny ? 'DENIED' : 'SUCCESS',
        operationName: 'FullSubject',
        queryHash,
        sensitivity: shape.sensitivity,
        details: deny ? { reason: 'no agreement shares this record type with the caller for this purpose and role' } : {},
      };
      const hash = hashEvent(prevHash, { ...body, seq });
      yield [
        seq, body.id, body.at.toISOString(), body.requestId, body.actorOrg, body.actorUser, JSON.stringify(body.actorRoles), body.purpose, body.caseRef,
        body.action, body.ownerOrg, body.recordType, body.recordId, body.nhsNumber, JSON.stringify(body.fields), JSON.stringify(body.agreements),
        body.outcome, body.operationName, body.queryHash, body.sensitivity, JSON.stringify(body.details), prevHash, hash,
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
