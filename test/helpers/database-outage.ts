/**
 * A real outage of a test hub's database. On PostgreSQL the database stops accepting connections
 * and the hub's backends are terminated (`restore` lets it back); the embedded database cannot go
 * away on its own, so its closest fault, the handle closed under the hub, stands in (for good).
 */
import postgres from 'postgres';
import { inject } from 'vitest';
import { testBackend } from './test-database.js';
import type { TestHub } from './test-hub.js';

export interface DatabaseOutage {
  /** The PostgreSQL database's name (never to appear in a response); undefined on PGlite. */
  readonly databaseName: string | undefined;
  /** Lets connections in again (PostgreSQL only; a no-op on PGlite). */
  restore(): Promise<void>;
  /** Restores and closes the admin connection: for afterAll. */
  end(): Promise<void>;
}

export async function cutOffDatabase(hub: TestHub): Promise<DatabaseOutage> {
  if (testBackend !== 'postgres') {
    await hub.database.close();
    return { databaseName: undefined, restore: async () => undefined, end: async () => undefined };
  }
  const databaseName = new URL(hub.database.url as string).pathname.slice(1);
  const admin = postgres(inject('postgresRun').adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`alter database "${databaseName}" with allow_connections false`);
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${databaseName}`;
  const restore = async () => {
    await admin.unsafe(`alter database "${databaseName}" with allow_connections true`);
  };
  return {
    databaseName,
    restore,
    async end() {
      await restore().catch(() => undefined);
      await admin.end({ timeout: 5 });
    },
  };
}
