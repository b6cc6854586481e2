import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { systemClock, type Clock } from '../clock.js';
import { rowsOf, type Db } from '../db/index.js';

export interface InstanceRegistryOptions {
  readonly clock?: Clock;
  /** How often this instance announces itself and recounts the others (default 5,000 ms). */
  readonly heartbeatMs?: number;
  /** This instance's row id (default: a random UUID, new on every start). */
  readonly instanceId?: string;
  /** Called when a heartbeat fails (database unreachable); the last count is kept meanwhile. */
  readonly onError?: (error: unknown) => void;
}

export interface InstanceRegistry {
  readonly instanceId: string;
  /** Announces this instance (awaited, so the first count is known), then keeps doing so every heartbeat. */
  start(): Promise<void>;
  /** One heartbeat now: upserts this instance's row and returns the live instance count. */
  heartbeat(): Promise<number>;
  /** Live instances as of the last heartbeat, this one included (so at least 1). */
  count(): number;
  /** Stops the heartbeat and removes this instance's row, so the others' share grows at their next heartbeat. */
  stop(): Promise<void>;
}

/** An instance is live while its last heartbeat is at most this many heartbeats old. */
const liveHeartbeats = 3;

/**
 * Keeps this hub instance's row in `hub_instances` fresh and counts the live instances, so the
 * rate limiter can give each instance its share of every organisation's budget without a round
 * trip per request. Instances' clocks must agree to well within a heartbeat (NTP): each compares
 * the others' `last_seen_at` with its own clock.
 */
export function createInstanceRegistry(db: Db, options: InstanceRegistryOptions = {}): InstanceRegistry {
  const clock = options.clock ?? systemClock;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs < 10) throw new TypeError('heartbeatMs must be a whole number of at least 10');
  const instanceId = options.instanceId ?? randomUUID();
  const startedAt = clock();
  let live = 1;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<number> | undefined;

  async function beat(): Promise<number> {
    const now = clock();
    const liveSince = new Date(now.getTime() - liveHeartbeats * heartbeatMs);
    // One round trip: the upsert, and the others still live. The statement's snapshot does not
    // see its own insert, so this instance is counted separately (the `+ 1`).
    const rows = rowsOf<{ live: number }>(
      await db.execute(sql`
        with me as (
          insert into hub_instances (id, started_at, last_seen_at)
          values (${instanceId}, ${startedAt.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz)
          on conflict (id) do update set last_seen_at = excluded.last_seen_at
          returning id
        )
        select (select count(*)::int from hub_instances where id <> ${instanceId} and last_seen_at > ${liveSince.toISOString()}::timestamptz) + 1 as live
      `),
    );
    live = Number(rows[0]?.live ?? 1);
    return live;
  }

  async function heartbeat(): Promise<number> {
    // A slow database must not pile heartbeats up: a beat in progress is shared.
    inFlight ??= beat().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    instanceId,
    async start() {
      await heartbeat();
      timer ??= setInterval(() => {
        heartbeat().catch((error: unknown) => options.onError?.(error));
      }, heartbeatMs);
      // The heartbeat alone must not keep the process alive at shutdown.
      timer.unref();
    },
    heartbeat,
    count: () => live,
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await inFlight?.catch(() => undefined);
      await db.execute(sql`delete from hub_instances where id = ${instanceId}`);
    },
  };
}
