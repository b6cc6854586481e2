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
import type { AuditAction, AuditOutcome, StoredAuditEvent } from './audit-event.js';
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

const csvColumns = [
  'seq', 'id', 'at', 'request_id', 'actor_org', 'actor_user', 'actor_roles', 'purpose', 'case_ref', 'action',
  'owner_org', 'record_type', 'record_id', 'nhs_number', 'fields', 'agreements', 'outcome', 'operation_name',
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

function csvLine(e: StoredAuditEvent): string {
  const values: (string | number | null)[] = [
    e.seq, e.id, e.at.toISOString(), e.requestId, e.actorOrg, e.actorUser, JSON.stringify(e.actorRoles), e.purpose,
    e.caseRef, e.action, e.ownerOrg, e.recordType, e.recordId, e.nhsNumber, JSON.stringify(e.fields),
    JSON.stringify(e.agreements), e.outcome, e.operationName, e.queryHash, e.sensitivity,
    e.details === null ? null : JSON.stringify(e.details), e.prevHash, e.hash,
  ];
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** The event as the hashed object plus `prevHash` and `hash`: an auditor can recompute the chain from it. */
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

/** One FHIR R5 AuditEvent resource for an event. */
export function toFhirAuditEvent(e: StoredAuditEvent, hubId = 'accord-hub'): Record<string, unknown> {
  const patient = e.nhsNumber === null ? undefined : { identifier: { system: fhirSystems.nhsNumber, value: e.nhsNumber }, type: 'Patient' };
  const agreementPolicy = e.agreements.map((a) => `${fhirSystems.agreement}:${a.id}:${a.version}`);
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
  const entities: Record<string, unknown>[] = [];
  if (e.recordId !== null || e.recordType !== null) {
    const detail: Record<string, unknown>[] = [];
    if (e.recordType !== null) detail.push({ type: { coding: [{ system: fhirSystems.recordType, code: e.recordType }], text: 'record type' }, valueString: e.recordType });
    if (e.ownerOrg !== null) detail.push({ type: { text: 'owner organisation' }, valueString: e.ownerOrg });
    if (e.fields.length > 0) detail.push({ type: { text: 'fields' }, valueString: e.fields.join(',') });
    entities.push({
      what: {
        ...(e.recordId === null ? {} : { identifier: { system: fhirSystems.record, value: e.recordId } }),
        display: [e.recordType, e.recordId].filter((x) => x !== null).join(' '),
      },
      role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' }] },
      ...(e.sensitivity === null ? {} : { securityLabel: [{ text: e.sensitivity }] }),
      ...(detail.length > 0 ? { detail } : {}),
    });
  }
  if (patient !== undefined) {
    entities.push({ what: patient, role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' }] } });
  }
  if (e.queryHash !== null || e.operationName !== null) {
    entities.push({
      what: { display: e.operationName ?? 'anonymous operation' },
      role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' }] },
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
    ...(e.agreements.length > 0
      ? {
          authorization: e.agreements.map((a) => ({
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
    const rows = (await db
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
      .limit(pageSize)) as StoredAuditEvent[];
    if (rows.length === 0) break;
    let chunk = '';
    for (const e of rows) {
      switch (format) {
        case 'csv':
          chunk += csvLine(e);
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
