import fs from 'node:fs/promises';
import path from 'node:path';
import { hubKeyFileName } from '../audit/index.js';
import type { Clock } from '../clock.js';
import { databaseTarballPath, encodeBackup, isSafeBackupPath, type BackupFile } from './backup-format.js';
import type { EmbeddedSnapshot } from './snapshot-embedded-database.js';

export interface CreateBackupOptions {
  /** The data directory whose files (besides the database) go into the backup. */
  readonly dataDir: string;
  readonly snapshot: EmbeddedSnapshot;
  readonly accordVersion: string;
  readonly clock: Clock;
}

/** A backup file's bytes and what it holds. */
export interface CreatedBackup {
  readonly bytes: Buffer;
  readonly files: readonly string[];
  readonly hubKeyIncluded: boolean;
  /** Data-directory entries left out: special files, and names a restore could not safely recreate. */
  readonly skipped: readonly string[];
}

/** What the hub and restore manage themselves at the top of a data directory. */
const internalEntries = new Set(['pgdata', 'accord.lock', 'accord.sock']);

/**
 * The data directory's own files: the hub signing key, the demo organisations' keys, and
 * whatever else the hub keeps there, so that a restore gives back the whole directory. Not the
 * database files (they come from the snapshot), the lock, the backup socket, or the work
 * directories of a restore. Symbolic links and other special files are left out: a backup holds
 * what the directory holds, not what it points to.
 */
async function dataDirFiles(dataDir: string): Promise<{ files: BackupFile[]; skipped: string[] }> {
  const files: BackupFile[] = [];
  const skipped: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dataDir, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (relative === '' && (internalEntries.has(name) || name.startsWith('.accord-restore'))) continue;
      if (!isSafeBackupPath(name) || name === databaseTarballPath) skipped.push(name);
      else if (entry.isDirectory()) await walk(name);
      else if (entry.isFile()) files.push({ path: name, data: await fs.readFile(path.join(dataDir, name)) });
      else skipped.push(name);
    }
  };
  await walk('');
  return { files, skipped };
}

/** Assembles a backup file from a snapshot of the database and the data directory's files. */
export async function createBackup(options: CreateBackupOptions): Promise<CreatedBackup> {
  const own = await dataDirFiles(options.dataDir);
  const files = [{ path: databaseTarballPath, data: options.snapshot.tarball }, ...own.files];
  const hubKeyIncluded = files.some((f) => f.path === hubKeyFileName);
  const bytes = encodeBackup(
    {
      createdAt: options.clock().toISOString(),
      accordVersion: options.accordVersion,
      database: { kind: 'pglite', migrations: options.snapshot.migrations },
      audit: { headSeq: options.snapshot.auditHead.seq, headHash: options.snapshot.auditHead.hash },
      hubKeyIncluded,
    },
    files,
  );
  return { bytes, files: files.map((f) => f.path), hubKeyIncluded, skipped: own.skipped };
}

/**
 * Writes a backup to `file` with mode 0600 (it holds the hub's private key): first to
 * `file.partial`, flushed to disk, then renamed, so a failed or interrupted backup never leaves
 * a file that looks complete.
 */
export async function writeBackupFile(file: string, bytes: Uint8Array): Promise<void> {
  const partial = `${file}.partial`;
  // A partial left by an interrupted run may have another owner's mode: start afresh.
  await fs.rm(partial, { force: true });
  const handle = await fs.open(partial, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(partial, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(partial, file);
  } catch (error) {
    await fs.rm(partial, { force: true });
    throw error;
  }
}
