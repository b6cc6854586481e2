import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { acquireDataDirLock, type DataDirLock, type StaleLock } from './data-dir-lock.js';
import * as tables from './tables.js';

export type Tables = typeof tables;
/** A drizzle database over either driver; domain code only ever sees this type. */
export type Db = PgDatabase<PgQueryResultHKT, Tables>;
/** What `db.transaction` hands its callback. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Applies every pending migration in drizzle/. Safe to run from several instances at once. */
  migrate(): Promise<void>;
  /** Resolves when the database answers and is migrated to the latest migration. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; absent: the embedded PGlite under `dataDir` (or in memory when `dataDir` is 'memory://'). */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** Name of the process taking the data directory lock, shown to anyone refused. */
  readonly lockOwner?: string;
  /** Called with every SQL statement sent (statement counting in tests, debug logging). */
  readonly onQuery?: (query: string, params: unknown[]) => void;
  /**
   * Called when the data-directory lock was left by a process that is no longer running (a
   * crash, `kill -9`, a power cut) and has been taken over, so the operator sees it in the log.
   */
  readonly onStaleLock?: (stale: StaleLock) => void;
  /** postgres pool size (default 10). */
  readonly maxConnections?: number;
}

/** Any number fits in a 64-bit advisory lock key; this one is "accord" in ASCII. */
const migrationLockKey = 0x6163636f7264;

function expectedMigrationCount(): number {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

async function assertMigrated(db: Db): Promise<void> {
  const result = await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { n: number }[];
  const applied = Number(rows[0]?.n ?? 0);
  if (applied < expectedMigrationCount()) throw new Error(`database is not migrated (${applied} of ${expectedMigrationCount()} migrations applied)`);
}

/**
 * Opens the configured database: PostgreSQL through postgres.js when a URL is given, otherwise
 * PGlite under the data directory (taking its lock, see data-dir-lock.ts).
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const logger = options.onQuery === undefined ? false : { logQuery: options.onQuery };

  if (options.databaseUrl !== undefined) {
    const url = options.databaseUrl;
    const client = postgres(url, {
      max: options.maxConnections ?? 10,
      onnotice: () => undefined,
      // Fail a connection attempt after 5 s rather than postgres.js's 30: during an outage a
      // request should get its 503 promptly, and /readyz must answer within 5 s.
      connect_timeout: 5,
      // Timestamps as Date, bigint seq as number: drizzle maps per column.
      connection: { application_name: 'accord' },
    });
    const db = drizzlePostgres({ client, schema: tables, logger }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      async migrate() {
        // A dedicated connection holds a session advisory lock so instances starting together
        // apply migrations once, one after the other.
        const one = postgres(url, { max: 1, onnotice: () => undefined });
        try {
          await one`select pg_advisory_lock(${migrationLockKey})`;
          await migratePostgres(drizzlePostgres({ client: one }), { migrationsFolder });
          await one`select pg_advisory_unlock(${migrationLockKey})`;
        } finally {
          await one.end({ timeout: 5 });
        }
      },
      ready: () => assertMigrated(db),
      close: () => client.end({ timeout: 5 }),
    };
  }

  const inMemory = options.dataDir === 'memory://';
  let lock: DataDirLock | undefined;
  let pgDir: string | undefined;
  if (!inMemory) {
    lock = acquireDataDirLock(options.dataDir, options.lockOwner ?? 'accord', options.onStaleLock);
    pgDir = path.join(options.dataDir, 'pgdata');
  }
  let client: PGlite;
  try {
    client = pgDir === undefined ? new PGlite() : new PGlite(pgDir);
    await client.waitReady;
  } catch (error) {
    lock?.release();
    throw error;
  }
  const db = drizzlePglite({ client, schema: tables, logger }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    async migrate() {
      await migratePglite(db as never, { migrationsFolder });
    },
    ready: () => assertMigrated(db),
    async close() {
      try {
        if (!client.closed) await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** Rows of a raw `db.execute` result, whichever driver ran it. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
