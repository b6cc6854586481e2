import { lt, sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import { tables } from '../db/index.js';

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

  return {
    async claim(iss, jti, expiresAt) {
      const now = clock();
      const nowMs = now.getTime();
      const key = `${iss}\u0000${jti}`;
      const until = seen.get(key);
      if (until !== undefined && until > nowMs) return false;

      // A row whose token has expired may be taken over: that token can no longer be accepted
      // anyway, and without this a jti reused long after would depend on whether a purge ran.
      const rows = await db
        .insert(tables.tokenReplays)
        .values({ iss, jti, expiresAt })
        .onConflictDoUpdate({
          target: [tables.tokenReplays.iss, tables.tokenReplays.jti],
          set: { expiresAt: sql`excluded.expires_at` },
          setWhere: lt(tables.tokenReplays.expiresAt, now),
        })
        .returning({ jti: tables.tokenReplays.jti });
      const first = rows.length > 0;
      remember(key, first ? expiresAt.getTime() : Math.max(expiresAt.getTime(), nowMs + 1), nowMs);
      if (nowMs - lastPurgeMs >= purgeIntervalMs) await purge(now);
      return first;
    },
  };
}

/** A replay guard for one process only (tests, tools); the hub uses the database guard. */
export function createMemoryReplayGuard(clock: Clock): ReplayGuard {
  const seen = new Map<string, number>();
  return {
    async claim(iss, jti, expiresAt) {
      const nowMs = clock().getTime();
      const key = `${iss}\u0000${jti}`;
      const until = seen.get(key);
      if (until !== undefined && until > nowMs) return false;
      if (seen.size >= 1000) for (const [k, t] of seen) if (t <= nowMs) seen.delete(k);
      seen.set(key, expiresAt.getTime());
      return true;
    },
  };
}
