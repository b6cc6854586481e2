/**
 * Signed checkpoints of the chain (CONTRACT §7). Someone who can write to the database can
 * rewrite history and recompute every hash after it; they cannot sign a checkpoint with the hub
 * key. Partners that keep copies of checkpoints (or `accord audit verify`, against the ones kept
 * here) detect the rewrite at the first checkpoint after it.
 */
import { asc, desc, gt } from 'drizzle-orm';
import { CompactSign } from 'jose';
import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import { auditCheckpoints, auditEvents } from '../db/tables.js';
import type { HubSigningKey } from './hub-keys.js';

export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: Date;
  readonly kid: string;
  /** Compact JWS (EdDSA) whose payload is the JSON `{"at":...,"hash":...,"seq":...}`. */
  readonly jws: string;
}

/** The JWS `typ` of a checkpoint, so a hub signature over anything else is never taken for one. */
export const checkpointJwsType = 'accord-checkpoint+jws';

export interface CheckpointerOptions {
  readonly key: HubSigningKey;
  /** Sign whenever the chain has grown by this many events... */
  readonly everyEvents: number;
  /** ...or every this many milliseconds, when the chain has grown since the last checkpoint. */
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly onError?: (error: unknown) => void;
}

export interface Checkpointer {
  /** Tells the checkpointer about a commit; pass it as the writer's `onCommitted`. */
  notify(lastSeq: number, lastHash: string, count?: number): void;
  /** Signs the current chain head now, unless it is already checkpointed. */
  checkpointNow(): Promise<AuditCheckpoint | undefined>;
  /** Stops the timer and waits for a signature in progress. */
  stop(): Promise<void>;
}

/** The bytes signed: RFC 8785 form of `{seq, hash, at}` (keys in order, no whitespace). */
export function checkpointPayload(seq: number, hash: string, at: Date): string {
  return `{"at":${JSON.stringify(at.toISOString())},"hash":${JSON.stringify(hash)},"seq":${seq}}`;
}

/**
 * Signs `{seq, hash, at}` after every `everyEvents` events or every `intervalMs` (when there are
 * new events), storing each in `audit_checkpoints`. Several hub instances may run one each: a
 * seq two of them sign is kept once.
 */
export function createCheckpointer(db: Db, options: CheckpointerOptions): Checkpointer {
  const { key, everyEvents, intervalMs, clock } = options;
  if (!Number.isSafeInteger(everyEvents) || everyEvents < 1) throw new TypeError('everyEvents must be a positive integer');
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) throw new TypeError('intervalMs must be a positive integer');
  let lastSignedSeq: number | undefined;
  // The seq the last count-triggered checkpoint was asked for, updated synchronously so that
  // commits notified while a signature is in progress still count towards the next one.
  let lastRequestedSeq = 0;
  let stopped = false;
  let work: Promise<unknown> = Promise.resolve();

  async function signedUpTo(): Promise<number> {
    if (lastSignedSeq === undefined) {
      const [last] = await db.select({ seq: auditCheckpoints.seq }).from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1);
      lastSignedSeq = last?.seq ?? 0;
    }
    return lastSignedSeq;
  }

  async function sign(seq: number, hash: string): Promise<AuditCheckpoint | undefined> {
    if (seq <= (await signedUpTo())) return undefined;
    const at = clock();
    const jws = await new CompactSign(new TextEncoder().encode(checkpointPayload(seq, hash, at)))
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: checkpointJwsType })
      .sign(key.privateKey);
    const checkpoint: AuditCheckpoint = { seq, hash, at, kid: key.kid, jws };
    await db.insert(auditCheckpoints).values(checkpoint).onConflictDoNothing({ target: auditCheckpoints.seq });
    lastSignedSeq = seq;
    lastRequestedSeq = Math.max(lastRequestedSeq, seq);
    return checkpoint;
  }

  function enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = work.then(task);
    work = result.catch((error: unknown) => options.onError?.(error));
    return result;
  }

  async function signHead(): Promise<AuditCheckpoint | undefined> {
    const [head] = await db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
    return head === undefined ? undefined : sign(head.seq, head.hash);
  }

  const timer = setInterval(() => {
    if (!stopped) void enqueue(signHead).catch(() => undefined);
  }, intervalMs);
  // The timer alone must not keep a CLI command or a test process alive.
  timer.unref();

  return {
    notify(lastSeq, lastHash) {
      if (stopped) return;
      // Counted in seqs, so events other instances appended in between count too.
      if (lastSeq - lastRequestedSeq >= everyEvents) {
        lastRequestedSeq = lastSeq;
        void enqueue(() => sign(lastSeq, lastHash)).catch(() => undefined);
      }
    },
    checkpointNow: () => enqueue(signHead),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await work;
    },
  };
}

/** Checkpoints in seq order, after `after` (a seq), at most `limit` (default 100, at most 1000). */
export async function listCheckpoints(db: Db, options: { after?: number | undefined; limit?: number | undefined } = {}): Promise<AuditCheckpoint[]> {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 1000);
  const rows = await db
    .select()
    .from(auditCheckpoints)
    .where(options.after === undefined ? undefined : gt(auditCheckpoints.seq, options.after))
    .orderBy(asc(auditCheckpoints.seq))
    .limit(limit);
  return rows;
}

/** The newest checkpoint, if any. */
export async function lastCheckpoint(db: Db): Promise<AuditCheckpoint | undefined> {
  const [row] = await db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1);
  return row;
}
