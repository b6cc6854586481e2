/**
 * The benchmark's own PostgreSQL database: `accord_bench_<random>` on the server of
 * DATABASE_URL, migrated with the hub's migrations, dropped at the end (also on Ctrl-C: see
 * `onExit` in run.ts). Bulk work goes through a plain postgres.js client (COPY); the hub code
 * under test gets the drizzle `Database`.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/db/index.js';

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  readonly name: string;
  /** URL of the bench database (same server, user and options as the base URL). */
  readonly url: string;
  /** A raw client for bulk loading (COPY, multi-row inserts). */
  readonly sql: postgres.Sql;
  /** The hub's database handle, migrated. */
  readonly database: Database;
  /** Closes every connection and drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

export function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createBenchDatabase(baseUrl: string, prefix = 'accord_bench'): Promise<BenchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = databaseUrl(baseUrl, name);
  const sql = postgres(url, { max: 4, onnotice: () => undefined });
  const database = await openDatabase({ databaseUrl: url, dataDir: '', maxConnections: 4 });
  await database.migrate();
  let dropped = false;
  return {
    name,
    url,
    sql,
    database,
    async drop() {
      if (dropped) return;
      dropped = true;
      await Promise.allSettled([sql.end({ timeout: 2 }), database.close()]);
      const again = postgres(baseUrl, { max: 1, onnotice: () => undefined });
      try {
        // WITH (FORCE) ends sessions a killed child may have left behind (PostgreSQL 13+).
        await again.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await again.end({ timeout: 5 });
      }
    },
  };
}
