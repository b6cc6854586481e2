import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database } from '../db/index.js';

/** A consistent copy of an open embedded database. */
export interface EmbeddedSnapshot {
  /** PGlite's data-directory tarball, gzip-compressed (what its `loadDataDir` option takes). */
  readonly tarball: Uint8Array;
  /** Migrations applied when it was taken. */
  readonly migrations: number;
  /** The newest audit event in it (seq 0 and 64 zeros when there is none). */
  readonly auditHead: { readonly seq: number; readonly hash: string };
}

const genesisHash = '0'.repeat(64);

/**
 * The PGlite instance under a Database. `Database` hides its driver on purpose; a backup is the
 * one place that needs PGlite itself, and drizzle keeps the client it was given as `$client`.
 */
function pgliteOf(database: Database): PGlite {
  const client = database.kind === 'pglite' ? (database.db as unknown as { $client?: unknown }).$client : undefined;
  if (!(client instanceof PGlite)) throw new TypeError('a snapshot needs an embedded (PGlite) database');
  return client;
}

async function one<T>(tx: Transaction, query: string): Promise<T | undefined> {
  return (await tx.query<T>(query)).rows[0];
}

/**
 * Dumps an open embedded database, consistently while a hub is using it.
 *
 * PGlite runs one top-level query or transaction at a time. Inside a transaction of our own no
 * other transaction can be half-way, so the migration count, the audit head and the files all
 * describe the same committed state; the CHECKPOINT first writes every committed change into
 * the data files, so the copy opens without WAL recovery. Other requests wait for the dump
 * (about a second for the demo partnership).
 */
export async function snapshotEmbeddedDatabase(database: Database): Promise<EmbeddedSnapshot> {
  const client = pgliteOf(database);
  return await client.transaction(async (tx) => {
    // An unmigrated database has neither table; a backup of it is still a backup.
    const migrations = await one<{ n: number }>(
      tx,
      `select case when to_regclass('drizzle.__drizzle_migrations') is null then 0 else (select count(*)::int from drizzle.__drizzle_migrations) end as n`,
    );
    const hasAudit = await one<{ present: boolean }>(tx, `select to_regclass('public.audit_events') is not null as present`);
    const head = hasAudit?.present === true ? await one<{ seq: number; hash: string }>(tx, 'select seq::float8 as seq, hash from audit_events order by seq desc limit 1') : undefined;
    await tx.exec('checkpoint');
    const tarball = new Uint8Array(await (await client.dumpDataDir('gzip')).arrayBuffer());
    return {
      tarball,
      migrations: Number(migrations?.n ?? 0),
      auditHead: { seq: Number(head?.seq ?? 0), hash: head?.hash ?? genesisHash },
    };
  });
}
