import { sql } from 'drizzle-orm';
import {
  GENESIS_HASH,
  hashEvent,
  toAuditEventBody,
  type AuditAgreementRef,
  type AuditEventInput,
  type AuditRecordEntry,
  type LegacyRecordColumns,
} from '../../src/audit/index.js';
import { rowsOf, type Db } from '../../src/db/index.js';
import { auditEvents } from '../../src/db/tables.js';

/**
 * Shorthands for the one record of {@link readEvent}'s event: `recordType: null` makes an event
 * concerning no record (`records: []`); give `records` instead to list several.
 */
export interface OneRecordChange {
  readonly recordType?: string | null | undefined;
  readonly recordId?: string | null | undefined;
  readonly fields?: readonly string[] | undefined;
  readonly withheld?: readonly string[] | undefined;
  readonly agreements?: readonly AuditAgreementRef[] | undefined;
}

export const defaultAgreementRef: AuditAgreementRef = { id: 'triborough-mash-children', version: 1, payloadHash: 'ab'.repeat(32) };

/** A record entry as a READ event lists it. */
export function recordEntry(n: number | string, change: Partial<AuditRecordEntry> = {}): AuditRecordEntry {
  return {
    recordType: 'Demographics',
    recordId: `rec-${n}`,
    fields: ['familyName', 'givenName'],
    withheld: [],
    agreements: [defaultAgreementRef],
    ...change,
  };
}

/**
 * A READ event as the GraphQL layer would write it: one event per request, subject, owner and
 * action, here concerning one record (`rec-<n>`) unless `change` says otherwise.
 */
export function readEvent(n: number, change: Partial<AuditEventInput> & OneRecordChange = {}): AuditEventInput {
  const { recordType, recordId, fields, withheld, agreements, ...rest } = change;
  const one: AuditRecordEntry = recordEntry(n, {
    ...(recordType === undefined || recordType === null ? {} : { recordType }),
    ...(recordId === undefined ? {} : { recordId }),
    ...(fields === undefined ? {} : { fields }),
    ...(withheld === undefined ? {} : { withheld }),
    ...(agreements === undefined ? {} : { agreements }),
  });
  return {
    requestId: `req-${n}`,
    actorOrg: 'westminster',
    actorUser: `worker-${n}`,
    actorRoles: ['social-worker'],
    purpose: 'safeguarding-children',
    caseRef: 'WCC-42',
    action: 'READ',
    ownerOrg: 'kensington-chelsea',
    nhsNumber: '9434765919',
    records: recordType === null ? [] : [one],
    outcome: 'SUCCESS',
    operationName: 'Subject',
    queryHash: 'cd'.repeat(32),
    sensitivity: 'personal',
    ...rest,
  };
}

/**
 * Appends an event of the earlier shape (one record in the record columns, `records` NULL)
 * straight into the table after the current head, hashed as the previous release hashed it, as
 * an upgraded hub finds them. Resolves with its seq.
 */
export async function insertLegacyEvent(
  db: Db,
  event: Omit<AuditEventInput, 'records'> & Partial<LegacyRecordColumns> & { readonly at: Date },
): Promise<number> {
  const [head] = rowsOf<{ seq: number; hash: string }>(await db.execute(sql`select seq::float8 as seq, hash from audit_events order by seq desc limit 1`));
  const seq = (head?.seq ?? 0) + 1;
  const prevHash = head?.hash ?? GENESIS_HASH;
  const { recordType = null, recordId = null, fields = [], agreements = [], ...input } = event;
  const body = toAuditEventBody({ ...input, records: [] }, event.at);
  const legacy: LegacyRecordColumns = { recordType, recordId, fields: [...fields], agreements: agreements.map((a) => ({ ...a })) };
  await db.insert(auditEvents).values({
    ...body,
    seq,
    actorRoles: [...body.actorRoles],
    details: body.details as Record<string, unknown> | null,
    recordType,
    recordId,
    fields: [...legacy.fields],
    agreements: [...legacy.agreements],
    records: null,
    prevHash,
    hash: hashEvent(prevHash, { ...body, seq, legacy }),
  });
  return seq;
}

export async function seqs(db: Db): Promise<number[]> {
  return rowsOf<{ seq: number }>(await db.execute(sql`select seq::float8 as seq from audit_events order by seq`)).map((r) => r.seq);
}

export function oneTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
