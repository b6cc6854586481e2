/**
 * The audit writer: group commit of the hash chain.
 *
 * Concurrent `append` calls are queued and written together in one transaction, so a busy hub
 * pays one database round trip per batch rather than per request. While one batch commits the
 * next one accumulates (pipelining). A caller's promise settles only after its batch's COMMIT:
 * "no audit, no data" (CONTRACT §7) means the GraphQL layer awaits it before releasing records.
 */
import { desc, sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/index.js';
import { auditEvents } from '../db/tables.js';
import { AccordError } from '../errors.js';
import { createDrainer } from '../group-commit.js';
import { toAuditEventBody, type AuditEventBody, type AuditEventInput, type StoredAuditEvent } from './audit-event.js';
import { GENESIS_HASH, hashEvent } from './chain.js';

export interface AuditWriterOptions {
  readonly clock: Clock;
  /**
   * Most events written in one transaction (default 5000). Appends are never split: one larger
   * than this is written alone.
   */
  readonly maxBatch?: number;
  /** Called after each commit with the new chain head and the number of events written. */
  readonly onCommitted?: (lastSeq: number, lastHash: string, count: number) => void;
  /** Called once per failed batch (and when `onCommitted` throws), e.g. to log it. */
  readonly onError?: (error: unknown) => void;
}

export interface AuditWriter {
  /**
   * Appends events to the chain, in order, atomically. Resolves with the stored events once they
   * are committed; rejects with `AUDIT_UNAVAILABLE` when they could not be (then none of them
   * were written). Throws TypeError synchronously-in-the-promise for a malformed event.
   */
  append(events: readonly AuditEventInput[]): Promise<StoredAuditEvent[]>;
  /**
   * Appends events inside the caller's transaction, so they commit or roll back with the
   * caller's own writes (a publish and its PUBLISH events are one unit: a record is never
   * written without its event). Takes the chain lock until that transaction ends. Rejects with
   * `AUDIT_UNAVAILABLE` when the events cannot be written, which aborts the transaction. Once the
   * transaction has committed, pass the result to `committed`.
   */
  appendInTransaction(tx: Tx, events: readonly AuditEventInput[]): Promise<StoredAuditEvent[]>;
  /** Reports events written by `appendInTransaction` whose transaction has committed (checkpoints count them). */
  committed(stored: readonly StoredAuditEvent[]): void;
  /** Resolves when every event appended before the call has been committed or has failed. */
  flush(): Promise<void>;
  /** Refuses further appends (`AUDIT_UNAVAILABLE`) and flushes what is queued. */
  close(): Promise<void>;
}

/**
 * Key of the transaction-scoped advisory lock that serialises chain appends across every hub
 * instance on one database: without it two instances could read the same head and fork the
 * chain (or collide on seq). "audit" in ASCII; distinct from the migration lock.
 */
export const auditChainLockKey = 0x6175646974;

/**
 * Rows a statement. The rows travel as one JSON parameter expanded by jsonb_populate_recordset:
 * a multi-row INSERT without the 65535-parameter limit of the wire protocol (23 columns a row
 * would cap a VALUES list at 2849 rows), and several times cheaper to build and parse than one
 * bind parameter per column. Chunked anyway to keep each statement a few megabytes at most.
 */
const rowsPerInsert = 5000;

/** Column names as keys; jsonb values as JSON, `at` as RFC 3339 (exact to the millisecond). */
function toRow(e: StoredAuditEvent): Record<string, unknown> {
  return {
    seq: e.seq,
    id: e.id,
    at: e.at.toISOString(),
    request_id: e.requestId,
    actor_org: e.actorOrg,
    actor_user: e.actorUser,
    actor_roles: e.actorRoles,
    purpose: e.purpose,
    case_ref: e.caseRef,
    action: e.action,
    owner_org: e.ownerOrg,
    record_type: e.recordType,
    record_id: e.recordId,
    nhs_number: e.nhsNumber,
    fields: e.fields,
    agreements: e.agreements,
    outcome: e.outcome,
    operation_name: e.operationName,
    query_hash: e.queryHash,
    sensitivity: e.sensitivity,
    details: e.details,
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

interface Pending {
  readonly bodies: readonly AuditEventBody[];
  readonly resolve: (events: StoredAuditEvent[]) => void;
  readonly reject: (error: unknown) => void;
}

function unavailable(cause: unknown): AccordError {
  return new AccordError('AUDIT_UNAVAILABLE', 'the audit trail could not be written; nothing was released', { cause });
}

async function writeChain(tx: Tx, bodies: readonly AuditEventBody[]): Promise<StoredAuditEvent[]> {
  await tx.execute(sql`select pg_advisory_xact_lock(${auditChainLockKey})`);
  // Read after taking the lock: under READ COMMITTED this statement sees every batch committed
  // by other instances before we got the lock, so the head is the true head.
  const [head] = await tx
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  const stored: StoredAuditEvent[] = bodies.map((body) => {
    seq += 1;
    const hash = hashEvent(prevHash, { ...body, seq });
    const event: StoredAuditEvent = { ...body, seq, prevHash, hash };
    prevHash = hash;
    return event;
  });
  for (let i = 0; i < stored.length; i += rowsPerInsert) {
    await tx.execute(sql`
      insert into audit_events (seq, id, at, request_id, actor_org, actor_user, actor_roles, purpose, case_ref, action,
        owner_org, record_type, record_id, nhs_number, fields, agreements, outcome, operation_name, query_hash,
        sensitivity, details, prev_hash, hash)
      select seq, id, at, request_id, actor_org, actor_user, actor_roles, purpose, case_ref, action,
        owner_org, record_type, record_id, nhs_number, fields, agreements, outcome, operation_name, query_hash,
        sensitivity, details, prev_hash, hash
      from jsonb_populate_recordset(null::audit_events, ${JSON.stringify(stored.slice(i, i + rowsPerInsert).map(toRow))}::jsonb)`);
  }
  return stored;
}

/** Creates the group-committing writer over `db` (see the module comment). */
export function createAuditWriter(db: Db, options: AuditWriterOptions): AuditWriter {
  const maxBatch = options.maxBatch ?? 5000;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new TypeError('maxBatch must be a positive integer');
  const queue: Pending[] = [];
  let closed = false;

  function takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let count = 0;
    while (queue.length > 0) {
      const next = queue[0] as Pending;
      if (batch.length > 0 && count + next.bodies.length > maxBatch) break;
      queue.shift();
      batch.push(next);
      count += next.bodies.length;
    }
    return batch;
  }

  async function writeBatch(batch: Pending[]): Promise<void> {
    const bodies = batch.flatMap((p) => p.bodies);
    let stored: StoredAuditEvent[];
    try {
      stored = await db.transaction((tx) => writeChain(tx, bodies));
    } catch (error) {
      options.onError?.(error);
      const failure = unavailable(error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    let offset = 0;
    for (const pending of batch) {
      pending.resolve(stored.slice(offset, offset + pending.bodies.length));
      offset += pending.bodies.length;
    }
    notifyCommitted(stored);
  }

  function notifyCommitted(stored: readonly StoredAuditEvent[]): void {
    const last = stored[stored.length - 1];
    if (last === undefined) return;
    try {
      options.onCommitted?.(last.seq, last.hash, stored.length);
    } catch (error) {
      options.onError?.(error);
    }
  }

  function bodiesOf(events: readonly AuditEventInput[]): AuditEventBody[] {
    const now = options.clock();
    return events.map((e) => toAuditEventBody(e, now));
  }

  const drainer = createDrainer(() => writeBatch(takeBatch()), () => queue.length > 0);

  return {
    append(events) {
      if (closed) return Promise.reject(unavailable(new Error('the audit writer is closed')));
      let bodies: AuditEventBody[];
      try {
        bodies = bodiesOf(events);
      } catch (error) {
        return Promise.reject(error);
      }
      if (bodies.length === 0) return Promise.resolve([]);
      return new Promise<StoredAuditEvent[]>((resolve, reject) => {
        queue.push({ bodies, resolve, reject });
        drainer.start();
      });
    },
    async appendInTransaction(tx, events) {
      if (closed) throw unavailable(new Error('the audit writer is closed'));
      const bodies = bodiesOf(events);
      if (bodies.length === 0) return [];
      try {
        return await writeChain(tx, bodies);
      } catch (error) {
        options.onError?.(error);
        throw unavailable(error);
      }
    },
    committed(stored) {
      notifyCommitted(stored);
    },
    flush() {
      return drainer.idle();
    },
    async close() {
      closed = true;
      await drainer.idle();
    },
  };
}
