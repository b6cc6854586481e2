import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { verifyChain } from '../audit/index.js';
import { acquireDataDirLock, migrationsFolder, rowsOf, tables, type Db } from '../db/index.js';
import { databaseTarballPath, type DecodedBackup } from './backup-format.js';
import { backupSocketName } from './backup-socket.js';

/** A restore that was refused or failed; the data directory is as it was. */
export class RestoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RestoreError';
  }
}

export type RestoreProgress =
  | { readonly step: 'loading'; readonly bytes: number }
  | { readonly step: 'migrating'; readonly pending: number }
  | { readonly step: 'verifying'; readonly checked: number; readonly lastSeq: number; readonly headSeq: number }
  | { readonly step: 'swapping' };

export interface RestoreBackupOptions {
  /** A backup already read and checked with decodeBackup. */
  readonly backup: DecodedBackup;
  /** The data directory to restore into. */
  readonly dataDir: string;
  /** Replace a data directory that is not empty. */
  readonly force: boolean;
  readonly onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreBackupResult {
  /** Audit events verified in the restored database, and its head. */
  readonly auditEvents: number;
  readonly headSeq: number;
  readonly headHash: string;
  readonly checkpointsChecked: number;
  /** Migrations this version of Accord applied on top of the backup's. */
  readonly migrationsApplied: number;
  /** What the data directory held before and no longer does (with --force). */
  readonly replaced: readonly string[];
}

/** Work directories inside the data directory: the same filesystem, so every move is a rename. */
const stagingName = '.accord-restore-staging';
const previousName = '.accord-restore-previous';
const lockName = 'accord.lock';
/** Entries of a data directory that do not make it "not empty", and that a restore leaves in place. */
const managed = new Set([lockName, backupSocketName, stagingName, previousName]);

function expectedMigrationCount(): number {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

async function appliedMigrationCount(db: Db): Promise<number> {
  const rows = rowsOf<{ n: number }>(
    await db.execute(
      sql`select case when to_regclass('drizzle.__drizzle_migrations') is null then 0 else (select count(*)::int from drizzle.__drizzle_migrations) end as n`,
    ),
  );
  return Number(rows[0]?.n ?? 0);
}

/** Writes the backup's files, other than the database, into the staging directory. */
function unpackFiles(backup: DecodedBackup, staging: string): void {
  fs.mkdirSync(staging, { mode: 0o700 });
  for (const file of backup.files) {
    if (file.path === databaseTarballPath) continue;
    const target = path.join(staging, ...file.path.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    // Owner-only like the originals: the hub's and the demo organisations' private keys.
    fs.writeFileSync(target, file.data, { mode: 0o600, flag: 'wx' });
  }
}

/**
 * Loads the backup's database into `<staging>/pgdata` and checks it as the hub will open it:
 * brings it to this version's migrations (refusing one newer than this code), checks it against
 * its manifest, and recomputes the whole audit chain and every signed checkpoint.
 *
 * PGlite itself rather than openDatabase, which cannot start from a tarball; the files are
 * written to disk as it loads them, so this is the database the hub will open.
 */
async function loadAndCheck(backup: DecodedBackup, staging: string, onProgress: RestoreBackupOptions['onProgress']) {
  const tarball = backup.files.find((f) => f.path === databaseTarballPath);
  if (tarball === undefined) throw new TypeError(`a decoded backup always holds ${databaseTarballPath}`);
  onProgress?.({ step: 'loading', bytes: tarball.data.byteLength });
  let client: PGlite | undefined;
  try {
    try {
      client = new PGlite(path.join(staging, 'pgdata'), { loadDataDir: new Blob([new Uint8Array(tarball.data)], { type: 'application/x-gzip' }) });
      await client.waitReady;
    } catch (error) {
      throw new RestoreError(`the database in the backup could not be opened: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const db = drizzle({ client, schema: tables }) as unknown as Db;
    const applied = await appliedMigrationCount(db);
    if (applied !== backup.manifest.database.migrations) {
      throw new RestoreError(`the database in the backup does not match its manifest (${applied} migrations applied, the manifest says ${backup.manifest.database.migrations})`);
    }
    const expected = expectedMigrationCount();
    if (applied > expected) {
      throw new RestoreError(
        `the backup was made by a newer Accord (${backup.manifest.accordVersion}, ${applied} migrations; this one knows ${expected}): restore it with that version or later`,
      );
    }
    if (applied < expected) {
      onProgress?.({ step: 'migrating', pending: expected - applied });
      await migrate(db as never, { migrationsFolder });
    }
    const result = await verifyChain(db, {
      onProgress: ({ checked, lastSeq, headSeq }) => onProgress?.({ step: 'verifying', checked, lastSeq, headSeq }),
    });
    if (result.firstBad !== undefined) {
      throw new RestoreError(`the audit chain in the backup is NOT intact: first bad seq ${result.firstBad.seq} (${result.firstBad.kind}): ${result.firstBad.message}`);
    }
    const { headSeq, headHash } = backup.manifest.audit;
    if (result.headSeq !== headSeq || result.headHash !== headHash) {
      throw new RestoreError(`the audit head in the backup (seq ${result.headSeq}) does not match its manifest (seq ${headSeq})`);
    }
    return { result, migrationsApplied: expected - applied };
  } finally {
    await client?.close().catch(() => undefined);
  }
}

/**
 * Moves the data directory's contents aside and the restored ones in, all renames within the
 * directory; on any failure everything moved is moved back. The previous contents are deleted
 * only once the new ones are all in place.
 */
function swapIn(dataDir: string, staging: string, previous: string): string[] {
  fs.mkdirSync(previous, { mode: 0o700 });
  const movedAside: string[] = [];
  const movedIn: string[] = [];
  try {
    for (const name of fs.readdirSync(dataDir)) {
      if (managed.has(name)) continue;
      fs.renameSync(path.join(dataDir, name), path.join(previous, name));
      movedAside.push(name);
    }
    for (const name of fs.readdirSync(staging)) {
      if (name === lockName) continue;
      fs.renameSync(path.join(staging, name), path.join(dataDir, name));
      movedIn.push(name);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    try {
      for (const name of movedIn.reverse()) fs.renameSync(path.join(dataDir, name), path.join(staging, name));
      for (const name of movedAside.reverse()) fs.renameSync(path.join(previous, name), path.join(dataDir, name));
      fs.rmdirSync(previous);
    } catch {
      throw new RestoreError(
        `the restore failed while swapping the data directory (${code}) and could not put it back: the previous contents are in ${previous} ` +
          `and the restored ones in ${staging}; move one of them back into ${dataDir} by hand before starting the hub`,
        { cause: error },
      );
    }
    throw new RestoreError(`the restore failed while swapping the data directory (${code}); the data directory was put back as it was`, { cause: error });
  }
  fs.rmSync(previous, { recursive: true, force: true });
  return movedAside;
}

/**
 * Restores a backup into a data directory, all or nothing. Under the data directory's lock (so
 * never under a running hub), it refuses a directory that holds anything unless `force` is set,
 * unpacks the backup into a staging directory inside it, opens that copy and verifies it
 * (migrations, manifest, the whole audit chain and its checkpoints), and only then swaps it in.
 * Until the swap, and if the swap fails, the data directory is exactly as it was.
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoreBackupResult> {
  const { backup, dataDir, force, onProgress } = options;
  const existed = fs.existsSync(dataDir);
  const lock = acquireDataDirLock(dataDir, 'accord restore');
  const staging = path.join(dataDir, stagingName);
  const previous = path.join(dataDir, previousName);
  let swapped = false;
  try {
    if (fs.existsSync(previous)) {
      throw new RestoreError(
        `an earlier restore into ${dataDir} was interrupted while swapping: the contents it replaced are in ${previous}. ` +
          'Check which contents you want, move them into place, delete that directory, then restore again',
      );
    }
    // A staging directory left by an interrupted restore was never in use: start afresh.
    fs.rmSync(staging, { recursive: true, force: true });
    const present = fs.readdirSync(dataDir).filter((name) => !managed.has(name));
    if (present.length > 0 && !force) {
      const shown = present.sort().slice(0, 5).join(', ') + (present.length > 5 ? ', ...' : '');
      throw new RestoreError(
        `refusing to restore into ${dataDir}: it is not empty (${shown}). Pass --force to replace its contents (deleted only once the restore has succeeded)`,
      );
    }
    unpackFiles(backup, staging);
    const { result, migrationsApplied } = await loadAndCheck(backup, staging, onProgress);
    onProgress?.({ step: 'swapping' });
    const replaced = swapIn(dataDir, staging, previous);
    swapped = true;
    return {
      auditEvents: result.checked,
      headSeq: result.headSeq,
      headHash: result.headHash,
      checkpointsChecked: result.checkpointsChecked,
      migrationsApplied,
      replaced,
    };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    lock.release();
    // A directory made only to be restored into goes again when nothing was restored.
    if (!existed && !swapped) {
      try {
        fs.rmdirSync(dataDir);
      } catch {
        // Not empty after all (someone else is using it): leave it.
      }
    }
  }
}
