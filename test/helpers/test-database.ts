/**
 * A fresh, migrated database for one test file: in-memory PGlite, or (in the postgres project)
 * a PostgreSQL database copied from the run's template and dropped at the end of the run.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openDatabase, type Database, type OpenDatabaseOptions } from '../../src/db/index.js';

export type TestBackend = 'pglite' | 'postgres';

export const testBackend: TestBackend = process.env.ACCORD_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

export interface TestDatabase extends Database {
  /** postgres:// URL of this database (postgres backend only): lets a test open a second instance on it. */
  readonly url: string | undefined;
  /** Opens another connection pool to the same database (postgres), or returns this one (PGlite is single-process). */
  reopen(options?: Partial<OpenDatabaseOptions>): Promise<Database>;
}

function withDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createTestDatabase(options: Partial<OpenDatabaseOptions> = {}): Promise<TestDatabase> {
  if (testBackend === 'pglite') {
    const database = await openDatabase({ ...options, dataDir: 'memory://' });
    await database.migrate();
    return { ...database, url: undefined, reopen: async () => database };
  }
  const run = inject('postgresRun');
  const name = `${run.prefix}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(run.adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database "${name}" template "${run.template}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = withDatabase(run.adminUrl, name);
  const database = await openDatabase({ ...options, databaseUrl: url, dataDir: '' });
  return {
    ...database,
    url,
    reopen: (more = {}) => openDatabase({ ...options, ...more, databaseUrl: url, dataDir: '' }),
  };
}
