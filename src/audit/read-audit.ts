/**
 * Reading the audit trail for data-protection officers (CONTRACT §7): filtered pages in seq
 * order, subject access reports, and the integrity summary. Authorisation (role `dpo` or
 * `hub-admin`) is the caller's job; the scope given here is what bounds the rows returned.
 */
import { and, asc, desc, eq, gt, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { auditEvents } from '../db/tables.js';
import { InputError } from '../errors.js';
import { storedEventOfRow, type AuditAction, type StoredAuditEvent } from './audit-event.js';
import { lastCheckpoint, type AuditCheckpoint } from './checkpoints.js';
import type { VerifyChainResult } from './verify-chain.js';
import { GENESIS_HASH } from './chain.js';

/** Whose events a reader may see: the hub operator all; a DPO those where its org is actor or owner. */
export type AuditScope = { readonly allOrgs: true } | { readonly org: string };

export interface AuditFilter {
  /** At or after this instant. */
  readonly from?: Date | undefined;
  /** Before this instant. */
  readonly to?: Date | undefined;
  readonly actorOrg?: string | undefined;
  readonly ownerOrg?: string | undefined;
  readonly nhsNumber?: string | undefined;
  readonly purpose?: string | undefined;
  readonly action?: AuditAction | undefined;
  /**
   * Events citing this agreement id (any version): as allowing the release of one of their
   * records, or as the agreement an AGREEMENT_SUBMIT / AGREEMENT_REVOKE event changed.
   */
  readonly agreementId?: string | undefined;
  /** Events concerning this record (its hub id), of either event shape. */
  readonly recordId?: string | undefined;
}

export interface AuditEventPage {
  readonly events: StoredAuditEvent[];
  readonly hasNextPage: boolean;
  /** Cursor of the last event of the page (pass as `after`); null when the page is empty. */
  readonly endCursor: string | null;
}

export const defaultAuditPageSize = 50;
export const maxAuditPageSize = 500;

const cursorPrefix = 'audit:';

/** The opaque cursor of an event: base64url of `audit:<seq>`. */
export function auditCursor(seq: number): string {
  return Buffer.from(`${cursorPrefix}${seq}`, 'utf8').toString('base64url');
}

function seqOfCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const seq = text.startsWith(cursorPrefix) ? Number(text.slice(cursorPrefix.length)) : Number.NaN;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor) || !Number.isSafeInteger(seq) || seq < 0 || auditCursor(seq) !== cursor) {
    throw new InputError('BAD_USER_INPUT', 'invalid audit query', [{ path: 'after', reason: 'is not a cursor returned by auditEvents' }]);
  }
  return seq;
}

function scopeCondition(scope: AuditScope): SQL | undefined {
  if ('allOrgs' in scope) {
    // A literal `true` only: guards against a scope object built from untrusted input.
    if (scope.allOrgs !== true) throw new TypeError('scope.allOrgs must be true');
    return undefined;
  }
  if (typeof scope.org !== 'string' || scope.org === '') throw new TypeError('scope.org must be an organisation id');
  return or(eq(auditEvents.actorOrg, scope.org), eq(auditEvents.ownerOrg, scope.org));
}

/**
 * Events citing an agreement id, of either shape: an event written before events listed their
 * records keeps its record's agreements (or the agreement an agreement event changed) in the
 * `agreements` column; a current event has them in each `records` entry, and an agreement event
 * names the agreement it changed in `details.agreement`.
 */
function citesAgreement(agreementId: string): SQL {
  const legacy = JSON.stringify([{ id: agreementId }]);
  const inRecords = JSON.stringify([{ agreements: [{ id: agreementId }] }]);
  const changed = JSON.stringify({ agreement: { id: agreementId } });
  return sql`(${auditEvents.agreements} @> ${legacy}::jsonb or ${auditEvents.records} @> ${inRecords}::jsonb or ${auditEvents.details} @> ${changed}::jsonb)`;
}

/**
 * Events concerning a record id, of either shape. The expression is exactly the one the GIN
 * index `audit_events_record_ids_idx` is built on (drizzle/0003_audit_records.sql), so the
 * planner answers it from the index whatever the size of the trail.
 */
function concernsRecord(recordId: string): SQL {
  return sql`accord_audit_record_ids(${auditEvents.records}, ${auditEvents.recordId}) @> ${JSON.stringify([recordId])}::jsonb`;
}

/** The conditions of a filter (every one must hold); exported for tests of the query plan. */
export function auditFilterConditions(filter: AuditFilter): (SQL | undefined)[] {
  return [
    filter.from === undefined ? undefined : gte(auditEvents.at, filter.from),
    filter.to === undefined ? undefined : lt(auditEvents.at, filter.to),
    filter.actorOrg === undefined ? undefined : eq(auditEvents.actorOrg, filter.actorOrg),
    filter.ownerOrg === undefined ? undefined : eq(auditEvents.ownerOrg, filter.ownerOrg),
    filter.nhsNumber === undefined ? undefined : eq(auditEvents.nhsNumber, filter.nhsNumber),
    filter.purpose === undefined ? undefined : eq(auditEvents.purpose, filter.purpose),
    filter.action === undefined ? undefined : eq(auditEvents.action, filter.action),
    filter.agreementId === undefined ? undefined : citesAgreement(filter.agreementId),
    filter.recordId === undefined ? undefined : concernsRecord(filter.recordId),
  ];
}

/**
 * One page of events in seq order matching every given filter, within the scope.
 * `first` defaults to 50 and must be 1 to 500; `after` is a cursor from an earlier page.
 */
export async function queryAuditEvents(
  db: Db,
  options: { scope: AuditScope; filter?: AuditFilter | undefined; first?: number | undefined; after?: string | undefined },
): Promise<AuditEventPage> {
  const first = options.first ?? defaultAuditPageSize;
  if (!Number.isSafeInteger(first) || first < 1 || first > maxAuditPageSize) {
    throw new InputError('BAD_USER_INPUT', 'invalid audit query', [{ path: 'first', reason: `must be from 1 to ${maxAuditPageSize}` }]);
  }
  const filter = options.filter ?? {};
  if (filter.from !== undefined && filter.to !== undefined && filter.to.getTime() <= filter.from.getTime()) {
    throw new InputError('BAD_USER_INPUT', 'invalid audit query', [{ path: 'filter.to', reason: 'must be after filter.from' }]);
  }
  const afterSeq = options.after === undefined ? 0 : seqOfCursor(options.after);
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(gt(auditEvents.seq, afterSeq), scopeCondition(options.scope), ...auditFilterConditions(filter)))
    .orderBy(asc(auditEvents.seq))
    .limit(first + 1);
  const events = rows.slice(0, first).map(storedEventOfRow);
  const last = events[events.length - 1];
  return { events, hasNextPage: rows.length > first, endCursor: last === undefined ? null : auditCursor(last.seq) };
}

/**
 * Every event about one person within the scope, in seq order: the evidence for a subject
 * access request (UK GDPR Art 15). Served by the (nhs_number, seq) index, so its cost depends on
 * the person's events, not on the size of the trail.
 */
export async function subjectAccessReport(db: Db, options: { scope: AuditScope; nhsNumber: string }): Promise<StoredAuditEvent[]> {
  if (typeof options.nhsNumber !== 'string' || options.nhsNumber === '') throw new TypeError('nhsNumber is required');
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.nhsNumber, options.nhsNumber), scopeCondition(options.scope)))
    .orderBy(asc(auditEvents.seq));
  return rows.map(storedEventOfRow);
}

export interface AuditIntegrity {
  readonly headSeq: number;
  readonly headHash: string;
  readonly lastCheckpoint: AuditCheckpoint | undefined;
  /** Up to which seq the chain was last recomputed and found intact (0: not yet verified). */
  readonly verifiedUpTo: number;
  /** False only when a verification found a problem. */
  readonly intact: boolean;
  /** What is wrong, when something is. */
  readonly problem: string | undefined;
}

/**
 * The state of the chain: head, newest checkpoint, and the result of the last verification the
 * hub ran (recomputing 10M events takes too long for a request, so the hub verifies in the
 * background, e.g. with {@link createIncrementalVerifier}, and passes its latest result here).
 */
export async function auditIntegrity(db: Db, options: { lastVerification?: VerifyChainResult | undefined } = {}): Promise<AuditIntegrity> {
  const [head] = await db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
  const verification = options.lastVerification;
  const bad = verification?.firstBad;
  return {
    headSeq: head?.seq ?? 0,
    headHash: head?.hash ?? GENESIS_HASH,
    lastCheckpoint: await lastCheckpoint(db),
    verifiedUpTo: verification?.verifiedUpTo ?? 0,
    intact: bad === undefined,
    problem: bad === undefined ? undefined : `seq ${bad.seq}: ${bad.kind}: ${bad.message}`,
  };
}
