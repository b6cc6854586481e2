/**
 * The audit writer: group commit of the hash chain, and with it everything else a read request
 * must make durable before its response may leave.
 *
 * Concurrent requests are queued and committed together by ONE statement per batch, the
 * `accord_commit` function (drizzle/0003_audit_records.sql): it checks the chain head, the
 * agreement and organisation generations each request was decided under, and each request's
 * single-use token id, then claims the token ids and appends the events, all in one round trip
 * and one transaction. While one batch commits the next accumulates (pipelining). A caller's
 * promise settles only after its batch's COMMIT: "no audit, no data" (CONTRACT §7) means the
 * request path awaits it before releasing records.
 *
 * The writer hashes events onto the head it last saw committed. Another instance (or a write
 * transaction) may have moved the head meanwhile; the function then writes nothing and returns
 * the true head, and the batch is hashed again and written in a transaction that holds the chain
 * lock (so that under contention no instance can keep losing the race). A request whose token id
 * was already claimed, or whose generations are out of date, is taken out of the batch and
 * answered `replayed` or `stale` (the request path refuses the first and decides the second again
 * under the fresh agreements), and the rest are sent again.
 */
import { desc, sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/index.js';
import { rowsOf } from '../db/index.js';
import { auditEvents } from '../db/tables.js';
import { AccordError } from '../errors.js';
import { createDrainer } from '../group-commit.js';
import { toAuditEventBody, type AuditEventBody, type AuditEventInput, type StoredAuditEvent } from './audit-event.js';
import { fastCanonicalEventJson, GENESIS_HASH, hashCanonical } from './chain.js';

/** A token id to claim, single use (CONTRACT §2), in the same commit as the request's events. */
export interface TokenClaim {
  readonly iss: string;
  readonly jti: string;
  /** Until when the claim must hold: the token's `exp` plus the accepted clock skew. */
  readonly until: Date;
}

/** The generations of the caches a request was decided under (`hub_state`). */
export interface DecisionGenerations {
  readonly agreements: number;
  readonly organisations: number;
}

/** What one request hands the writer once it has executed. */
export interface RequestCommit {
  readonly events: readonly AuditEventInput[];
  readonly claim?: TokenClaim | undefined;
  readonly generations?: DecisionGenerations | undefined;
}

export type RequestCommitResult =
  | { readonly status: 'committed'; readonly events: StoredAuditEvent[] }
  /** The token id was claimed before: refuse with 401 and release nothing. */
  | { readonly status: 'replayed' }
  /** Agreements or organisations changed since the request was decided: decide it again. */
  | { readonly status: 'stale' };

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
   * Commits one request: claims its token id, checks its generations and appends its events,
   * group-committed with the requests around it. Resolves once committed (or with `replayed` /
   * `stale`, when nothing of it was written); rejects with `AUDIT_UNAVAILABLE` when it could not
   * be committed. Throws TypeError in the promise for a malformed event.
   */
  commit(request: RequestCommit): Promise<RequestCommitResult>;
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
 * Events per statement when a write transaction appends its own (a publish of 1,000 records
 * writes a few hundred): keeps each statement a few megabytes at most.
 */
const eventsPerInsert = 5000;

/** An event chained and ready to send: the stored event and its canonical JSON (what was hashed). */
interface ChainedEvent {
  readonly event: StoredAuditEvent;
  readonly canonical: string;
}

/**
 * The JSON array accord_append_events reads: each event's canonical JSON (chain.ts) with
 * `prevHash` and `hash` added, so each event is serialised once, and what is stored is exactly
 * what was hashed.
 */
function eventsJson(chained: readonly ChainedEvent[]): string {
  const parts = chained.map(({ event, canonical }) => `${canonical.slice(0, -1)},"prevHash":"${event.prevHash}","hash":"${event.hash}"}`);
  return `[${parts.join(',')}]`;
}

interface Pending {
  readonly bodies: readonly AuditEventBody[];
  readonly claim: (TokenClaim & { readonly key: string }) | undefined;
  readonly generations: DecisionGenerations | undefined;
  readonly resolve: (result: RequestCommitResult) => void;
  readonly reject: (error: unknown) => void;
}

function unavailable(cause: unknown): AccordError {
  return new AccordError('AUDIT_UNAVAILABLE', 'the audit trail could not be written; nothing was released', { cause });
}

interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** Hashes `bodies` onto `head`, in order. */
function chainOnto(head: ChainHead, bodies: readonly AuditEventBody[]): ChainedEvent[] {
  let seq = head.seq;
  let prevHash = head.hash;
  return bodies.map((body) => {
    seq += 1;
    const canonical = fastCanonicalEventJson({ ...body, seq });
    const hash = hashCanonical(prevHash, canonical);
    const event: StoredAuditEvent = { ...body, seq, prevHash, hash };
    prevHash = hash;
    return { event, canonical };
  });
}

/**
 * The chain head, read in a transaction that holds the chain lock: under READ COMMITTED this
 * statement sees every batch committed by other instances before the lock was taken, so the head
 * is the true head.
 */
async function chainHead(tx: Tx): Promise<ChainHead> {
  const [row] = await tx.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
  return { seq: row?.seq ?? 0, hash: row?.hash ?? GENESIS_HASH };
}

/** accord_commit's answer: postgres.js parses jsonb; a driver handing back its text is parsed here. */
function parseAnswer(answer: unknown): CommitAnswer {
  const parsed = (typeof answer === 'string' ? JSON.parse(answer) : answer) as CommitAnswer | undefined;
  if (parsed?.status !== 'ok' && parsed?.status !== 'retry') throw new Error('accord_commit gave no answer');
  return parsed;
}

async function writeChain(tx: Tx, bodies: readonly AuditEventBody[]): Promise<StoredAuditEvent[]> {
  await tx.execute(sql`select pg_advisory_xact_lock(${auditChainLockKey})`);
  const chained = chainOnto(await chainHead(tx), bodies);
  for (let i = 0; i < chained.length; i += eventsPerInsert) {
    await tx.execute(sql`select accord_append_events(${eventsJson(chained.slice(i, i + eventsPerInsert))}::jsonb)`);
  }
  return chained.map((c) => c.event);
}

/** Creates the group-committing writer over `db` (see the module comment). */
export function createAuditWriter(db: Db, options: AuditWriterOptions): AuditWriter {
  const maxBatch = options.maxBatch ?? 5000;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new TypeError('maxBatch must be a positive integer');
  const queue: Pending[] = [];
  let closed = false;
  // The head this instance last saw committed. Unknown at first: the first batch learns it
  // from accord_commit's answer (one extra round trip, once).
  let head: ChainHead = unknownHead;

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

  // A prepared statement: on PostgreSQL the first call on a connection parses it and later calls
  // are one Bind/Execute round trip (unprepared, postgres.js describes a parameterised statement
  // in a round trip of its own before executing it).
  const commitStatement = db
    .select({ answer: sql<CommitAnswer | string>`accord_commit(${sql.placeholder('batch')}::jsonb)` })
    .from(sql`(select 1) as one`)
    .prepare('accord_commit');

  /** accord_commit's argument for `live`, its events chained as `chained`. */
  function batchJson(live: readonly Pending[], chained: readonly ChainedEvent[], now: Date): string {
    const claims: unknown[] = [];
    const checks: unknown[] = [];
    live.forEach((pending, req) => {
      if (pending.claim !== undefined) claims.push({ req, iss: pending.claim.iss, jti: pending.claim.jti, expires_at: pending.claim.until.toISOString() });
      if (pending.generations !== undefined) checks.push({ req, ...pending.generations });
    });
    return `{"now":"${now.toISOString()}","head":${JSON.stringify(head)},"claims":${JSON.stringify(claims)},"checks":${JSON.stringify(checks)},"events":${eventsJson(chained)}}`;
  }

  /**
   * Sends `live` through `execute` until it commits or nothing is left of it: after each refusal
   * the true head is taken, replayed and stale requests are answered and left out, and the rest
   * is hashed again. Returns the requests still waiting when `untilHeadMoves` and the head moved
   * (another instance appended: the caller retries under the chain lock). Answers are added to
   * `settled`, not given: inside a transaction they hold only once it has committed.
   */
  async function sendUntilSettled(live: Pending[], execute: (batch: string) => Promise<CommitAnswer>, untilHeadMoves: boolean, settled: Settled[]): Promise<Pending[]> {
    while (live.length > 0) {
      const chained = chainOnto(head, live.flatMap((p) => p.bodies));
      const answer = await execute(batchJson(live, chained, options.clock()));
      if (answer.status === 'ok') {
        const stored = chained.map((c) => c.event);
        const last = stored[stored.length - 1];
        if (last !== undefined) head = { seq: last.seq, hash: last.hash };
        let offset = 0;
        for (const pending of live) {
          settled.push({ pending, result: { status: 'committed', events: stored.slice(offset, offset + pending.bodies.length) } });
          offset += pending.bodies.length;
        }
        return [];
      }
      const moved = answer.head.seq !== head.seq || answer.head.hash !== head.hash;
      head = answer.head;
      const replayed = new Set(answer.replayed);
      const stale = new Set(answer.stale);
      live = live.filter((pending, req) => {
        // A replay is refused whatever else: the token can never be used again.
        if (replayed.has(req)) settled.push({ pending, result: { status: 'replayed' } });
        else if (stale.has(req)) settled.push({ pending, result: { status: 'stale' } });
        else return true;
        return false;
      });
      if (moved && untilHeadMoves) return live;
    }
    return [];
  }

  /** Gives each settled request its answer (emptying `settled`) and reports the events committed. */
  function answer(settled: Settled[]): void {
    const stored: StoredAuditEvent[] = [];
    for (const { pending, result } of settled.splice(0)) {
      if (result.status === 'committed') stored.push(...result.events);
      pending.resolve(result);
    }
    notifyCommitted(stored);
  }

  async function writeBatch(batch: Pending[]): Promise<void> {
    // Two requests of one batch with the same token id: only the first may win.
    const claimedHere = new Set<string>();
    let live = batch.filter((pending) => {
      if (pending.claim === undefined) return true;
      if (!claimedHere.has(pending.claim.key)) {
        claimedHere.add(pending.claim.key);
        return true;
      }
      pending.resolve({ status: 'replayed' });
      return false;
    });
    const settled: Settled[] = [];
    try {
      // Optimistic: one prepared statement, the events hashed onto the head this instance last
      // saw. Alone on the database, that is the only round trip. Each statement commits on its
      // own, so what it settled holds at once.
      live = await sendUntilSettled(live, async (json) => parseAnswer((await commitStatement.execute({ batch: json }))[0]?.answer), true, settled);
      answer(settled);
      if (live.length === 0) return;
      // Another instance appended meanwhile. Under contention optimism could lose again and
      // again, so the rest is written holding the chain lock: the head cannot move under it.
      await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${auditChainLockKey})`);
        head = await chainHead(tx);
        live = await sendUntilSettled(
          live,
          async (json) => parseAnswer(rowsOf<{ answer: unknown }>(await tx.execute(sql`select accord_commit(${json}::jsonb) as answer`))[0]?.answer),
          false,
          settled,
        );
      });
      // Only now, after COMMIT: a request answered before it could send records whose events a
      // failed commit then lost ("no audit, no data").
      answer(settled);
    } catch (error) {
      options.onError?.(error);
      // The head may have been taken from a transaction that rolled back: learn it again.
      head = unknownHead;
      const failure = unavailable(error);
      for (const pending of [...live, ...settled.splice(0).map((s) => s.pending)]) pending.reject(failure);
    }
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

  function commit(request: RequestCommit): Promise<RequestCommitResult> {
    if (closed) return Promise.reject(unavailable(new Error('the audit writer is closed')));
    let bodies: AuditEventBody[];
    try {
      bodies = bodiesOf(request.events);
    } catch (error) {
      return Promise.reject(error);
    }
    const claim = request.claim === undefined ? undefined : { ...request.claim, key: `${request.claim.iss}\u0000${request.claim.jti}` };
    if (bodies.length === 0 && claim === undefined) return Promise.resolve({ status: 'committed', events: [] });
    return new Promise<RequestCommitResult>((resolve, reject) => {
      queue.push({ bodies, claim, generations: request.generations, resolve, reject });
      drainer.start();
    });
  }

  return {
    commit,
    async append(events) {
      const result = await commit({ events });
      // Without a claim or generations nothing can make the commit replayed or stale.
      if (result.status !== 'committed') throw new Error(`an append without a token claim came back ${result.status}`);
      return result.events;
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
      const last = stored[stored.length - 1];
      // The group commit's cached head is behind now; learning it here saves the next batch a
      // retry on this instance.
      if (last !== undefined && last.seq > head.seq) head = { seq: last.seq, hash: last.hash };
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

/** A head no chain has: the next commit is refused with the true head (one extra round trip). */
const unknownHead: ChainHead = { seq: -1, hash: '' };

/** A request's answer, decided but not yet given. */
interface Settled {
  readonly pending: Pending;
  readonly result: RequestCommitResult;
}

/** accord_commit's answer (drizzle/0003_audit_records.sql). */
type CommitAnswer =
  | { readonly status: 'ok' }
  | { readonly status: 'retry'; readonly head: ChainHead; readonly stale: readonly number[]; readonly replayed: readonly number[] };
