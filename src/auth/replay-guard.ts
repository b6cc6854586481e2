/**
 * Single-use token ids (CONTRACT §2). The authority is the `token_replays` table: a request's
 * `(iss, jti)` is claimed in the same statement that commits its audit events (accord_commit,
 * see src/audit/audit-writer.ts), so a replayed token gets 401 and no data on every hub
 * instance sharing the database, at no extra round trip. This module is the in-memory front:
 * a token this instance has already seen claimed is refused before any work is done, and
 * expired rows are purged from the table now and then.
 */
import { lt } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import { tables } from '../db/index.js';
import type { Caller } from './caller.js';

/** A token id to claim and until when (see {@link tokenClaimOf}). */
export interface TokenIdClaim {
  readonly iss: string;
  readonly jti: string;
  readonly until: Date;
}

/**
 * The claim a verified caller's token makes. It stays claimed until the token could no longer be
 * accepted even by a clock running `clockSkewSeconds` behind: `exp` plus the skew.
 */
export function tokenClaimOf(caller: Caller, clockSkewSeconds: number): TokenIdClaim {
  return { iss: caller.org, jti: caller.jti, until: new Date(caller.expiresAt.getTime() + clockSkewSeconds * 1000) };
}

export interface ReplayGuard {
  /** Whether this instance already knows the id as claimed by a token that has not expired (memory only, no round trip). */
  seen(iss: string, jti: string): boolean;
  /** Remembers an id found claimed (committed here, or refused as a replay). */
  remember(claim: TokenIdClaim): void;
}

export interface DatabaseReplayGuardOptions {
  /** Delete expired rows at most this often (default one minute). */
  readonly purgeIntervalMs?: number;
  /** Cap on ids remembered in memory; the database stays the authority beyond it (default 100 000). */
  readonly memoryLimit?: number;
}

function replayKey(iss: string, jti: string): string {
  return `${iss}\u0000${jti}`;
}

/** The memory front over `token_replays`, which it also purges of expired ids now and then. */
export function createDatabaseReplayGuard(db: Db, clock: Clock, options: DatabaseReplayGuardOptions = {}): ReplayGuard {
  const purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
  const memoryLimit = options.memoryLimit ?? 100_000;
  const seen = new Map<string, number>();
  let lastPurgeMs = clock().getTime();

  function purge(nowMs: number): void {
    lastPurgeMs = nowMs;
    for (const [k, until] of seen) if (until <= nowMs) seen.delete(k);
    db.delete(tables.tokenReplays)
      .where(lt(tables.tokenReplays.expiresAt, new Date(nowMs)))
      .catch(() => {
        // Housekeeping only: a failed purge is retried next interval and never fails a request.
      });
  }

  return {
    seen(iss, jti) {
      const until = seen.get(replayKey(iss, jti));
      return until !== undefined && until > clock().getTime();
    },
    remember(claim) {
      const nowMs = clock().getTime();
      seen.set(replayKey(claim.iss, claim.jti), Math.max(claim.until.getTime(), nowMs + 1));
      if (seen.size > memoryLimit) {
        for (const [k, until] of seen) if (until <= nowMs) seen.delete(k);
        // Still full: forget the oldest entries (Map keeps insertion order); the database still refuses them.
        for (const k of seen.keys()) {
          if (seen.size <= memoryLimit) break;
          seen.delete(k);
        }
      }
      if (nowMs - lastPurgeMs >= purgeIntervalMs) purge(nowMs);
    },
  };
}
