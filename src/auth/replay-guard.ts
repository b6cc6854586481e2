import { lt, sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import { rowsOf, tables } from '../db/index.js';
import { createDrainer } from '../group-commit.js';

function replayKey(iss: string, jti: string): string {
  return `${iss}\u0000${jti}`;
}

/** Whether `key` is remembered as claimed, by a token that has not expired yet. */
function claimedBefore(seen: ReadonlyMap<string, number>, key: string, nowMs: number): boolean {
  const until = seen.get(key);
  return until !== undefined && until > nowMs;
}

/** Remembers which token ids were used, so a captured token cannot be played again (CONTRACT §2). */
export interface ReplayGuard {
  /**
   * Records that `(iss, jti)` is used until `expiresAt`. Resolves `true` the first time and
   * `false` when it was already claimed and has not expired — on this instance or any other
   * sharing the database. Rejects when the claim cannot be recorded (the request must then fail:
   * an unrecordable token id is never accepted).
   */
  claim(iss: string, jti: string, expiresAt: Date): Promise<boolean>;
}

export interface DatabaseReplayGuardOptions {
  /** Delete expired rows at most this often (default one minute). */
  readonly purgeIntervalMs?: number;
  /** Cap on ids remembered in memory; the database stays the authority beyond it (default 100 000). */
  readonly memoryLimit?: number;
}

/**
 * A replay guard backed by the `token_replays` table: the primary key (iss, jti) makes the first
 * INSERT win, so two hub instances on one database cannot both accept the same token. An
 * in-memory front answers "seen here already" without a round trip.
 */
export function createDatabaseReplayGuard(db: Db, clock: Clock, options: DatabaseReplayGuardOptions = {}): ReplayGuard {
  const purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
  const memoryLimit = options.memoryLimit ?? 100_000;
  const seen = new Map<string, number>();
  let lastPurgeMs = clock().getTime();

  function remember(key: string, expiresAtMs: number, nowMs: number): void {
    seen.set(key, expiresAtMs);
    if (seen.size <= memoryLimit) return;
    for (const [k, until] of seen) if (until <= nowMs) seen.delete(k);
    // Still full: forget the oldest entries (Map keeps insertion order); the database still refuses them.
    for (const k of seen.keys()) {
      if (seen.size <= memoryLimit) break;
      seen.delete(k);
    }
  }

  async function purge(now: Date): Promise<void> {
    lastPurgeMs = now.getTime();
    for (const [k, until] of seen) if (until <= lastPurgeMs) seen.delete(k);
    try {
      await db.delete(tables.tokenReplays).where(lt(tables.tokenReplays.expiresAt, now));
    } catch {
      // Housekeeping only: a failed purge is retried next interval and never fails a request.
    }
  }

  interface PendingClaim {
    readonly key: string;
    readonly iss: string;
    readonly jti: string;
    readonly expiresAt: Date;
    readonly resolve: (first: boolean) => void;
    readonly reject: (error: unknown) => void;
  }
  let queue: PendingClaim[] = [];

  /**
   * Claims every queued id in one statement (one round trip and one commit for all the requests
   * that arrived together, like the audit writer's group commit). A row whose token has expired
   * may be taken over: that token can no longer be accepted anyway, and without this a jti reused
   * long after would depend on whether a purge ran.
   */
  async function claimBatch(batch: PendingClaim[]): Promise<void> {
    const now = clock();
    const nowMs = now.getTime();
    // The same id twice in one batch: only the first can win (and ON CONFLICT may not touch a
    // row twice in one statement).
    const unique = new Map<string, PendingClaim>();
    const repeats: PendingClaim[] = [];
    for (const pending of batch) {
      if (unique.has(pending.key)) repeats.push(pending);
      else unique.set(pending.key, pending);
    }
    let won: Set<string>;
    try {
      const values = [...unique.values()].map((p) => ({ iss: p.iss, jti: p.jti, expires_at: p.expiresAt.toISOString() }));
      const rows = rowsOf<{ iss: string; jti: string }>(
        await db.execute(sql`
          insert into token_replays (iss, jti, expires_at)
          select iss, jti, expires_at from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as x(iss text, jti text, expires_at timestamptz)
          on conflict (iss, jti) do update set expires_at = excluded.expires_at
          where token_replays.expires_at < ${now.toISOString()}::timestamptz
          returning iss, jti`),
      );
      won = new Set(rows.map((row) => replayKey(row.iss, row.jti)));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const pending of unique.values()) {
      const first = won.has(pending.key);
      remember(pending.key, first ? pending.expiresAt.getTime() : Math.max(pending.expiresAt.getTime(), nowMs + 1), nowMs);
      pending.resolve(first);
    }
    for (const pending of repeats) pending.resolve(false);
    if (nowMs - lastPurgeMs >= purgeIntervalMs) await purge(now);
  }

  const drainer = createDrainer(
    () => {
      const batch = queue;
      queue = [];
      return claimBatch(batch);
    },
    () => queue.length > 0,
  );

  return {
    async claim(iss, jti, expiresAt) {
      const nowMs = clock().getTime();
      const key = replayKey(iss, jti);
      if (claimedBefore(seen, key, nowMs)) return false;
      return await new Promise<boolean>((resolve, reject) => {
        queue.push({ key, iss, jti, expiresAt, resolve, reject });
        drainer.start();
      });
    },
  };
}

/** A replay guard for one process only (tests, tools); the hub uses the database guard. */
export function createMemoryReplayGuard(clock: Clock): ReplayGuard {
  const seen = new Map<string, number>();
  return {
    async claim(iss, jti, expiresAt) {
      const nowMs = clock().getTime();
      const key = replayKey(iss, jti);
      if (claimedBefore(seen, key, nowMs)) return false;
      if (seen.size >= 1000) for (const [k, t] of seen) if (t <= nowMs) seen.delete(k);
      seen.set(key, expiresAt.getTime());
      return true;
    },
  };
}
