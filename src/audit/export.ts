/**
 * Exports of the audit trail for auditors (`accord audit export`): CSV, NDJSON, or one FHIR R5
 * Bundle of AuditEvent resources. Events are read page by page and written with backpressure,
 * so memory stays constant whatever the size of the trail.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { and, asc, gt, gte, lt } from 'drizzle-orm';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import { auditEvents } from '../db/tables.js';
import { assertNever } from '../errors.js';
import { recordTypes } from '../records/catalogue.js';
import { storedEventOfRow, type AuditAction, type AuditAgreementRef, type AuditOutcome, type AuditRecordEntry, type StoredAuditEvent } from './audit-event.js';
import { hashedObjectOf } from './chain.js';
import { queryHashKind } from './query-hash.js';

export type AuditExportFormat = 'csv' | 'ndjson' | 'fhir';
export const auditExportFormats: readonly AuditExportFormat[] = ['csv', 'ndjson', 'fhir'];

export interface ExportAuditOptions {
  readonly format: AuditExportFormat;
  /** Events at or after this instant. */
  readonly from?: Date | undefined;
  /** Events before this instant. */
  readonly to?: Date | undefined;
  readonly out: Writable;
  /** Called after each page with the number of events written so far. */
  readonly onProgress?: ((written: number) => void) | undefined;
  /** Events a page (default 5000). */
  readonly pageSize?: number | undefined;
  /** The FHIR Bundle's timestamp comes from here. */
  readonly clock?: Clock | undefined;
  /** The hub id (ACCORD_HUB_ID), named as the FHIR `source.observer`. */
  readonly hubId?: string | undefined;
}

/** Code systems of Accord's own codes in the FHIR export (URNs: they name, they do not resolve). */
export const fhirSystems = Object.freeze({
  action: 'urn:accord:audit-action',
  organisation: 'urn:accord:organisation',
  user: 'urn:accord:user',
  role: 'urn:accord:role',
  purpose: 'urn:accord:purpose',
  agreement: 'urn:accord:agreement',
  record: 'urn:accord:record',
  recordType: 'urn:accord:record-type',
  hub: 'urn:accord:hub',
  chain: 'urn:accord:audit-chain',
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
});

async function write(out: Writable, chunk: string): Promise<void> {
  // Respect backpressure: wait for the destination to drain before producing more.
  if (!out.write(chunk)) await once(out, 'drain');
}

/**
 * One row per record an event concerns (an event concerning no record, such as an agreement or
 * ADMIN event, is one row with the record columns empty): the event's columns repeat on each of
 * its rows, so `seq` groups them back into events.
 */
const csvColumns = [
  'seq', 'id', 'at', 'request_id', 'actor_org', 'actor_user', 'actor_roles', 'purpose', 'case_ref', 'action',
  'owner_org', 'record_type', 'record_id', 'nhs_number', 'fields', 'withheld', 'agreements', 'outcome', 'operation_name',
  'query_hash', 'sensitivity', 'details', 'prev_hash', 'hash',
] as const;

/**
 * One CSV cell (RFC 4180). A value that a spreadsheet would run as a formula (starting with
 * = + - @ or a tab/CR) is prefixed with a single quote: `actor_user` comes from a partner's token
 * and must not execute on the auditor's machine. NDJSON is the exact, hash-checkable export.
 */
function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV rows of an event: one per record, or one with empty record cells when it has none. */
function csvLines(e: StoredAuditEvent): string {
  const row = (r: AuditRecordEntry | undefined): string => {
    const values: (string | number | null)[] = [
      e.seq, e.id, e.at.toISOString(), e.requestId, e.actorOrg, e.actorUser, JSON.stringify(e.actorRoles), e.purpose,
      e.caseRef, e.action, e.ownerOrg, r?.recordType ?? null, r?.recordId ?? null, e.nhsNumber,
      r === undefined ? null : JSON.stringify(r.fields), r === undefined ? null : JSON.stringify(r.withheld),
      r === undefined ? null : JSON.stringify(r.agreements), e.outcome, e.operationName, e.queryHash, e.sensitivity,
      e.details === null ? null : JSON.stringify(e.details), e.prevHash, e.hash,
    ];
    return `${values.map(csvCell).join(',')}\r\n`;
  };
  return e.records.length === 0 ? row(undefined) : e.records.map(row).join('');
}

/**
 * The event as the hashed object plus `prevHash` and `hash`: an auditor can recompute the chain
 * from it. An event written before events listed their records is written in the shape it was
 * hashed in (its one record in `recordType`, `recordId`, `fields`, `agreements`; no `records`).
 */
function ndjsonLine(e: StoredAuditEvent): string {
  return `${JSON.stringify({ ...hashedObjectOf(e), prevHash: e.prevHash, hash: e.hash })}\n`;
}

const dicom = 'http://dicom.nema.org/resources/ontology/DCM';

function fhirCategory(action: AuditAction): { system: string; code: string; display: string } {
  switch (action) {
    case 'READ':
    case 'PUBLISH':
    case 'RETRACT':
      return { system: dicom, code: '110110', display: 'Patient Record' };
    case 'BREAK_GLASS':
    case 'DENY':
      return { system: dicom, code: '110113', display: 'Security Alert' };
    case 'AGREEMENT_SUBMIT':
    case 'AGREEMENT_REVOKE':
    case 'ADMIN':
      return { system: dicom, code: '110100', display: 'Application Activity' };
    default:
      return assertNever(action, 'audit action');
  }
}

/** FHIR AuditEvent.action: C create, R read, U update, D delete, E execute. */
function fhirAction(action: AuditAction): 'C' | 'R' | 'U' | 'D' | 'E' {
  switch (action) {
    case 'READ':
    case 'BREAK_GLASS':
    case 'DENY':
      return 'R';
    case 'PUBLISH':
      return 'U';
    case 'RETRACT':
      return 'D';
    case 'AGREEMENT_SUBMIT':
      return 'C';
    case 'AGREEMENT_REVOKE':
      return 'U';
    case 'ADMIN':
      return 'E';
    default:
      return assertNever(action, 'audit action');
  }
}

function fhirOutcome(outcome: AuditOutcome): { code: string; display: string } {
  switch (outcome) {
    case 'SUCCESS':
      return { code: '0', display: 'Success' };
    case 'DENIED':
      return { code: '4', display: 'Minor failure' };
    case 'FAILURE':
      return { code: '8', display: 'Serious failure' };
    default:
      return assertNever(outcome, 'audit outcome');
  }
}

/** The agreement versions that allowed any of the event's records, each once, in first-cited order. */
function agreementsOf(e: StoredAuditEvent): AuditAgreementRef[] {
  const seen = new Map<string, AuditAgreementRef>();
  for (const r of e.records) for (const a of r.agreements) if (!seen.has(`${a.id}\u0000${a.version}`)) seen.set(`${a.id}\u0000${a.version}`, a);
  return [...seen.values()];
}

/** The agreement an AGREEMENT_SUBMIT / AGREEMENT_REVOKE event changed (`details.agreement`), when named. */
function changedAgreementOf(e: StoredAuditEvent): AuditAgreementRef | undefined {
  const a = e.details?.agreement;
  if (a === null || typeof a !== 'object' || Array.isArray(a)) return undefined;
  const { id, version, payloadHash } = a as Record<string, unknown>;
  if (typeof id !== 'string' || typeof version !== 'number' || typeof payloadHash !== 'string') return undefined;
  return { id, version, payloadHash };
}

const objectRole = 'http://terminology.hl7.org/CodeSystem/object-role';

/** The entity of one record: the record (or, for DENY, the record type asked for) and what was released of it. */
function recordEntity(e: StoredAuditEvent, r: AuditRecordEntry): Record<string, unknown> {
  // The record's own class (its type's), not the event's: the event carries the most restricted
  // class of all its records.
  const sensitivity = (recordTypes as Readonly<Record<string, { sensitivity: string } | undefined>>)[r.recordType]?.sensitivity ?? e.sensitivity;
  const detail: Record<string, unknown>[] = [{ type: { coding: [{ system: fhirSystems.recordType, code: r.recordType }], text: 'record type' }, valueString: r.recordType }];
  if (e.ownerOrg !== null) detail.push({ type: { text: 'owner organisation' }, valueString: e.ownerOrg });
  if (r.fields.length > 0) detail.push({ type: { text: 'fields' }, valueString: r.fields.join(',') });
  if (r.withheld.length > 0) detail.push({ type: { text: 'withheld fields' }, valueString: r.withheld.join(',') });
  if (r.agreements.length > 0) detail.push({ type: { text: 'agreements' }, valueString: r.agreements.map((a) => `${a.id}:${a.version}`).join(',') });
  return {
    what: {
      ...(r.recordId === null ? {} : { identifier: { system: fhirSystems.record, value: r.recordId } }),
      display: r.recordId === null ? r.recordType : `${r.recordType} ${r.recordId}`,
    },
    role: { coding: [{ system: objectRole, code: '4', display: 'Domain Resource' }] },
    ...(sensitivity === null ? {} : { securityLabel: [{ text: sensitivity }] }),
    detail,
  };
}

/** One FHIR R5 AuditEvent resource for an event: one `entity` per record it concerns. */
export function toFhirAuditEvent(e: StoredAuditEvent, hubId = 'accord-hub'): Record<string, unknown> {
  const patient = e.nhsNumber === null ? undefined : { identifier: { system: fhirSystems.nhsNumber, value: e.nhsNumber }, type: 'Patient' };
  const agreements = agreementsOf(e);
  const agreementPolicy = agreements.map((a) => `${fhirSystems.agreement}:${a.id}:${a.version}`);
  const purposeOfUse = e.purpose === null ? [] : [{ coding: [{ system: fhirSystems.purpose, code: e.purpose }], text: e.purpose }];
  const agents: Record<string, unknown>[] = [];
  if (e.actorUser !== null) {
    agents.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUT', display: 'author (originator)' }] },
      role: e.actorRoles.map((r) => ({ coding: [{ system: fhirSystems.role, code: r }], text: r })),
      who: { identifier: { system: e.actorOrg === null ? fhirSystems.user : `${fhirSystems.user}:${e.actorOrg}`, value: e.actorUser }, display: e.actorUser },
      requestor: true,
      ...(agreementPolicy.length > 0 ? { policy: agreementPolicy } : {}),
      ...(purposeOfUse.length > 0 ? { authorization: purposeOfUse } : {}),
    });
  }
  if (e.actorOrg !== null) {
    agents.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass', code: 'PROV', display: 'healthcare provider' }], text: 'acting organisation' },
      who: { identifier: { system: fhirSystems.organisation, value: e.actorOrg }, type: 'Organization', display: e.actorOrg },
      requestor: e.actorUser === null,
      ...(e.actorUser === null && purposeOfUse.length > 0 ? { authorization: purposeOfUse } : {}),
    });
  }
  if (agents.length === 0) {
    // agent is 1..*: an event with no actor was the hub's own doing.
    agents.push({ who: { identifier: { system: fhirSystems.hub, value: hubId }, display: `Accord hub ${hubId}` }, requestor: true });
  }
  const entities: Record<string, unknown>[] = e.records.map((r) => recordEntity(e, r));
  const changed = changedAgreementOf(e);
  if (changed !== undefined) {
    entities.push({
      what: { identifier: { system: fhirSystems.agreement, value: changed.id }, display: `agreement ${changed.id} version ${changed.version}` },
      role: { coding: [{ system: objectRole, code: '13', display: 'Security Resource' }] },
      detail: [
        { type: { text: 'version' }, valueString: String(changed.version) },
        { type: { text: 'payload sha-256' }, valueString: changed.payloadHash },
        ...(e.ownerOrg === null ? [] : [{ type: { text: 'provider organisation' }, valueString: e.ownerOrg }]),
      ],
    });
  }
  if (patient !== undefined) {
    entities.push({ what: patient, role: { coding: [{ system: objectRole, code: '1', display: 'Patient' }] } });
  }
  if (e.queryHash !== null || e.operationName !== null) {
    entities.push({
      what: { display: e.operationName ?? 'anonymous operation' },
      role: { coding: [{ system: objectRole, code: '24', display: 'Query' }] },
      detail: [
        ...(e.operationName === null ? [] : [{ type: { text: 'operation name' }, valueString: e.operationName }]),
        // Keyed hashes (hmac-sha256:…) and the plain SHA-256 of events written before are told apart.
        ...(e.queryHash === null ? [] : [{ type: { text: queryHashKind(e.queryHash) === 'hmac-sha256' ? 'query document hmac-sha-256' : 'query document sha-256' }, valueString: e.queryHash }]),
      ],
    });
  }
  const outcome = fhirOutcome(e.outcome);
  return {
    resourceType: 'AuditEvent',
    id: e.id,
    extension: [
      {
        url: fhirSystems.chain,
        extension: [
          { url: 'seq', valueInteger64: String(e.seq) },
          { url: 'prevHash', valueString: e.prevHash },
          { url: 'hash', valueString: e.hash },
          { url: 'requestId', valueString: e.requestId },
          ...(e.caseRef === null ? [] : [{ url: 'caseRef', valueString: e.caseRef }]),
          ...(e.details === null ? [] : [{ url: 'details', valueString: JSON.stringify(e.details) }]),
        ],
      },
    ],
    category: [{ coding: [fhirCategory(e.action)] }],
    code: { coding: [{ system: fhirSystems.action, code: e.action }], text: e.action },
    action: fhirAction(e.action),
    severity: e.action === 'BREAK_GLASS' ? 'alert' : e.action === 'DENY' ? 'warning' : 'informational',
    recorded: e.at.toISOString(),
    outcome: {
      code: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-outcome', code: outcome.code, display: outcome.display },
      detail: [{ text: e.outcome }],
    },
    ...(agreements.length > 0
      ? {
          authorization: agreements.map((a) => ({
            coding: [{ system: fhirSystems.agreement, code: a.id, version: String(a.version), display: `${a.id} version ${a.version}` }],
            text: `agreement ${a.id} version ${a.version} (payload sha-256 ${a.payloadHash})`,
          })),
        }
      : {}),
    ...(patient === undefined ? {} : { patient: { identifier: patient.identifier } }),
    agent: agents,
    source: {
      observer: { identifier: { system: fhirSystems.hub, value: hubId }, display: `Accord hub ${hubId}` },
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] }],
    },
    ...(entities.length > 0 ? { entity: entities } : {}),
  };
}

/**
 * Writes the events (optionally in `[from, to)`) to `out` in seq order; resolves with how many
 * were written once the last has been handed to `out` (the caller ends the stream).
 */
export async function exportAuditEvents(db: Db, options: ExportAuditOptions): Promise<{ count: number }> {
  const { format, out } = options;
  if (!auditExportFormats.includes(format)) throw new TypeError(`unknown export format ${String(format)}`);
  const pageSize = options.pageSize ?? 5000;
  const hubId = options.hubId ?? 'accord-hub';
  let count = 0;
  if (format === 'csv') await write(out, `${csvColumns.join(',')}\r\n`);
  if (format === 'fhir') {
    const bundleHead = { resourceType: 'Bundle', id: randomUUID(), type: 'collection', timestamp: (options.clock ?? systemClock)().toISOString() };
    await write(out, `${JSON.stringify(bundleHead).slice(0, -1)},"entry":[`);
  }
  let afterSeq = 0;
  for (;;) {
    const rows = (
      await db
        .select()
        .from(auditEvents)
        .where(
          and(
            gt(auditEvents.seq, afterSeq),
            options.from === undefined ? undefined : gte(auditEvents.at, options.from),
            options.to === undefined ? undefined : lt(auditEvents.at, options.to),
          ),
        )
        .orderBy(asc(auditEvents.seq))
        .limit(pageSize)
    ).map(storedEventOfRow);
    if (rows.length === 0) break;
    let chunk = '';
    for (const e of rows) {
      switch (format) {
        case 'csv':
          chunk += csvLines(e);
          break;
        case 'ndjson':
          chunk += ndjsonLine(e);
          break;
        case 'fhir':
          chunk += `${count === 0 ? '' : ','}${JSON.stringify({ fullUrl: `urn:uuid:${e.id}`, resource: toFhirAuditEvent(e, hubId) })}`;
          break;
        default:
          assertNever(format, 'export format');
      }
      count += 1;
    }
    const accepted = out.write(chunk);
    afterSeq = (rows[rows.length - 1] as StoredAuditEvent).seq;
    // Reported once handed to the destination; the next page waits for it to drain.
    options.onProgress?.(count);
    if (!accepted) await once(out, 'drain');
    if (rows.length < pageSize) break;
  }
  if (format === 'fhir') await write(out, ']}\n');
  return { count };
}
