/**
 * The audit event of CONTRACT §7: what the hub records about every release, denial, publish,
 * retraction, agreement change and administrative action.
 */
import { randomUUID } from 'node:crypto';
import type { auditEvents } from '../db/tables.js';

export const auditActions = [
  'READ',
  'BREAK_GLASS',
  'DENY',
  'PUBLISH',
  'RETRACT',
  'AGREEMENT_SUBMIT',
  'AGREEMENT_REVOKE',
  'ADMIN',
] as const;
export type AuditAction = (typeof auditActions)[number];

export const auditOutcomes = ['SUCCESS', 'DENIED', 'FAILURE'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

/** An agreement version cited by an event: the one that allowed the release. */
export interface AuditAgreementRef {
  readonly id: string;
  readonly version: number;
  /** SHA-256 (hex) of the agreement's JCS payload, so the exact signed text is pinned. */
  readonly payloadHash: string;
}

/**
 * One record an event concerns (CONTRACT §7 `records`): the fields released (READ, BREAK_GLASS)
 * or concerned (PUBLISH, RETRACT), the fields withheld from the caller, and the agreement
 * versions that allowed it. A DENY entry has `recordId: null`: it names only the record type the
 * caller asked for, never which records exist.
 */
export interface AuditRecordEntry {
  readonly recordType: string;
  readonly recordId: string | null;
  readonly fields: readonly string[];
  readonly withheld: readonly string[];
  readonly agreements: readonly AuditAgreementRef[];
}

/**
 * The record columns of an event written before events listed their records (one event per
 * record; withheld fields in `details.withheld`). Such events stay in the chain and are hashed
 * from these columns exactly as they were written (chain.ts).
 */
export interface LegacyRecordColumns {
  readonly recordType: string | null;
  readonly recordId: string | null;
  readonly fields: readonly string[];
  readonly agreements: readonly AuditAgreementRef[];
}

/** JSON values only: `details` is stored as jsonb and hashed as JCS, so it must survive both. */
export type AuditJson = string | number | boolean | null | readonly AuditJson[] | { readonly [key: string]: AuditJson };

/**
 * What a caller hands the writer. The writer assigns `seq`, `prevHash` and `hash`; `id` is
 * generated when absent and `at` defaults to the writer's clock.
 */
export interface AuditEventInput {
  readonly id?: string | undefined;
  readonly at?: Date | undefined;
  readonly requestId: string;
  readonly actorOrg?: string | null | undefined;
  readonly actorUser?: string | null | undefined;
  readonly actorRoles?: readonly string[] | undefined;
  readonly purpose?: string | null | undefined;
  readonly caseRef?: string | null | undefined;
  readonly action: AuditAction;
  readonly ownerOrg?: string | null | undefined;
  readonly nhsNumber?: string | null | undefined;
  /** The records concerned, in a stable order; empty for agreement and administrative events. */
  readonly records?: readonly AuditRecordEntry[] | undefined;
  readonly outcome: AuditOutcome;
  readonly operationName?: string | null | undefined;
  /**
   * Keyed hash of the GraphQL query document: `hmac-sha256:<hex>` (query-hash.ts). Events written
   * before the hash was keyed hold a plain SHA-256 hex, kept as it is.
   */
  readonly queryHash?: string | null | undefined;
  readonly sensitivity?: string | null | undefined;
  readonly details?: { readonly [key: string]: AuditJson } | null | undefined;
}

/**
 * An event as it is hashed: every field present, absent values as `null`. This is exactly the
 * object (plus `seq`) that chain.ts canonicalises, so it is also what the writer stores.
 */
export interface AuditEventBody {
  readonly id: string;
  readonly at: Date;
  readonly requestId: string;
  readonly actorOrg: string | null;
  readonly actorUser: string | null;
  readonly actorRoles: readonly string[];
  readonly purpose: string | null;
  readonly caseRef: string | null;
  readonly action: AuditAction;
  readonly ownerOrg: string | null;
  readonly nhsNumber: string | null;
  readonly records: readonly AuditRecordEntry[];
  readonly outcome: AuditOutcome;
  readonly operationName: string | null;
  readonly queryHash: string | null;
  readonly sensitivity: string | null;
  readonly details: { readonly [key: string]: AuditJson } | null;
}

/** An event as stored in the chain. */
export interface StoredAuditEvent extends AuditEventBody {
  /** Position in the chain, gapless from 1. */
  readonly seq: number;
  /** `hash` of the event at `seq - 1`; 64 zeros for seq 1. */
  readonly prevHash: string;
  /** hex SHA-256(prevHash ‖ JCS(event)), see chain.ts. */
  readonly hash: string;
  /**
   * Present only on an event written before events listed their records: the columns it was
   * hashed from. Its `records` are then derived from them for readers (one entry).
   */
  readonly legacy?: LegacyRecordColumns | undefined;
}

/**
 * The `records` a reader sees for an event of the earlier shape: its one record (withheld fields
 * were kept in `details.withheld`), or none when it named no record type.
 */
export function recordsOfLegacyEvent(legacy: LegacyRecordColumns, details: AuditEventBody['details']): AuditRecordEntry[] {
  if (legacy.recordType === null) return [];
  const withheld = details !== null && Array.isArray(details.withheld) ? details.withheld.filter((f): f is string => typeof f === 'string') : [];
  return [{ recordType: legacy.recordType, recordId: legacy.recordId, fields: legacy.fields, withheld, agreements: legacy.agreements }];
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Lone UTF-16 surrogates cannot be stored as UTF-8: the database would keep U+FFFD and the
// stored event would no longer match its hash. NUL is refused by PostgreSQL text and jsonb.
// eslint-disable-next-line no-control-regex
const unstorable = /[\u0000]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const minTime = Date.parse('0000-01-01T00:00:00.000Z');
const maxTime = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function text(value: string | null | undefined, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`audit event ${name} must be a string`);
  if (unstorable.test(value)) throw new TypeError(`audit event ${name} contains a NUL or an unpaired surrogate`);
  return value;
}

function requiredText(value: string, name: string): string {
  const checked = text(value, name);
  if (checked === null) throw new TypeError(`audit event ${name} is required`);
  return checked;
}

function texts(values: readonly string[] | undefined, name: string): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values)) throw new TypeError(`audit event ${name} must be an array of strings`);
  return values.map((v, i) => text(v, `${name}[${i}]`) ?? '');
}

/**
 * Rebuilds `details` as plain JSON exactly as jsonb will give it back: the hash is computed over
 * this copy, so verification after a round trip through the database recomputes the same bytes.
 */
function jsonValue(value: unknown, path: string): AuditJson {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') return text(value, path) ?? '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`audit event ${path} must be a finite number`);
    // Integers beyond 2^53 would not survive jsonb -> JSON.parse unchanged.
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) throw new TypeError(`audit event ${path} is an unsafe integer`);
    return Object.is(value, -0) ? 0 : value;
  }
  if (Array.isArray(value)) return value.map((v, i) => jsonValue(v, `${path}[${i}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, AuditJson> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      text(key, `${path} key`);
      out[key] = jsonValue(v, `${path}.${key}`);
    }
    return out;
  }
  throw new TypeError(`audit event ${path} must be plain JSON`);
}

function agreementRef(a: AuditAgreementRef, path: string): AuditAgreementRef {
  if (typeof a.version !== 'number' || !Number.isSafeInteger(a.version)) throw new TypeError(`audit event ${path}.version must be an integer`);
  return { id: text(a.id, `${path}.id`) ?? '', version: a.version, payloadHash: text(a.payloadHash, `${path}.payloadHash`) ?? '' };
}

/** Checks a list of strings and returns it as it is (no copy: an event lists hundreds of them). */
function checkedTexts(values: readonly string[], name: string): readonly string[] {
  if (!Array.isArray(values)) throw new TypeError(`audit event ${name} must be an array of strings`);
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    if (typeof value !== 'string' || unstorable.test(value)) text(value as string, `${name}[${i}]`);
  }
  return values;
}

function recordEntry(r: AuditRecordEntry, path: string): AuditRecordEntry {
  if (typeof r !== 'object' || r === null) throw new TypeError(`audit event ${path} must be an object`);
  if (!Array.isArray(r.agreements)) throw new TypeError(`audit event ${path}.agreements must be an array`);
  return {
    recordType: requiredText(r.recordType, `${path}.recordType`),
    recordId: text(r.recordId, `${path}.recordId`),
    fields: checkedTexts(r.fields, `${path}.fields`),
    withheld: checkedTexts(r.withheld, `${path}.withheld`),
    agreements: r.agreements.map((a, j) => agreementRef(a, `${path}.agreements[${j}]`)),
  };
}

/**
 * Validates an input and fills in defaults, producing the body that is hashed and stored.
 * Inputs come from the hub's own code, not from callers, so a bad one is a programmer's mistake
 * (TypeError), thrown before the event joins a batch so it cannot fail anyone else's events.
 */
export function toAuditEventBody(input: AuditEventInput, now: Date): AuditEventBody {
  if (!(auditActions as readonly string[]).includes(input.action)) throw new TypeError(`unknown audit action ${String(input.action)}`);
  if (!(auditOutcomes as readonly string[]).includes(input.outcome)) throw new TypeError(`unknown audit outcome ${String(input.outcome)}`);
  // uuid columns come back lower-case; hash what will be read back.
  const id = input.id === undefined ? randomUUID() : input.id.toLowerCase();
  if (!uuidPattern.test(id)) throw new TypeError('audit event id must be a UUID');
  const at = input.at ?? now;
  const time = at instanceof Date ? at.getTime() : Number.NaN;
  if (!(time >= minTime && time <= maxTime)) throw new TypeError('audit event at must be a valid Date between years 0 and 9999');
  if (input.records !== undefined && !Array.isArray(input.records)) throw new TypeError('audit event records must be an array');
  const records = (input.records ?? []).map((r, i) => recordEntry(r, `records[${i}]`));
  const details = input.details === undefined || input.details === null ? null : jsonValue(input.details, 'details');
  if (details !== null && (typeof details !== 'object' || Array.isArray(details))) throw new TypeError('audit event details must be an object');
  return {
    id,
    at: new Date(time),
    requestId: requiredText(input.requestId, 'requestId'),
    actorOrg: text(input.actorOrg, 'actorOrg'),
    actorUser: text(input.actorUser, 'actorUser'),
    actorRoles: texts(input.actorRoles, 'actorRoles'),
    purpose: text(input.purpose, 'purpose'),
    caseRef: text(input.caseRef, 'caseRef'),
    action: input.action,
    ownerOrg: text(input.ownerOrg, 'ownerOrg'),
    nhsNumber: text(input.nhsNumber, 'nhsNumber'),
    records,
    outcome: input.outcome,
    operationName: text(input.operationName, 'operationName'),
    queryHash: text(input.queryHash, 'queryHash'),
    sensitivity: text(input.sensitivity, 'sensitivity'),
    details: details as AuditEventBody['details'],
  };
}

/** A row of `audit_events` as drizzle reads it. */
export type AuditEventRow = typeof auditEvents.$inferSelect;

/**
 * The event a stored row holds, of either shape: an event written before events listed their
 * records (`records` NULL) keeps its record columns in `legacy`, for hashing, and shows them to
 * readers as its one `records` entry.
 */
export function storedEventOfRow(row: AuditEventRow): StoredAuditEvent {
  const details = (row.details ?? null) as AuditEventBody['details'];
  const common = {
    seq: row.seq,
    id: row.id,
    at: row.at,
    requestId: row.requestId,
    actorOrg: row.actorOrg,
    actorUser: row.actorUser,
    actorRoles: row.actorRoles,
    purpose: row.purpose,
    caseRef: row.caseRef,
    action: row.action as AuditAction,
    ownerOrg: row.ownerOrg,
    nhsNumber: row.nhsNumber,
    outcome: row.outcome as AuditOutcome,
    operationName: row.operationName,
    queryHash: row.queryHash,
    sensitivity: row.sensitivity,
    details,
    prevHash: row.prevHash,
    hash: row.hash,
  };
  if (row.records !== null) return { ...common, records: row.records };
  const legacy: LegacyRecordColumns = { recordType: row.recordType, recordId: row.recordId, fields: row.fields, agreements: row.agreements };
  return { ...common, records: recordsOfLegacyEvent(legacy, details), legacy };
}
