/**
 * The backup file (`accord backup --out FILE`): a self-describing, versioned container that is
 * checked whole before a restore touches anything.
 *
 * ```text
 * ACCORD-BACKUP/1 <manifest length in bytes> <manifest SHA-256, hex>\n
 * <manifest: one line of JSON>\n
 * <payload: the files of the manifest, concatenated in its order>
 * ```
 *
 * Every byte is covered by a check: the header line by its own syntax, the manifest by the
 * SHA-256 in the header, the payload by the manifest's length and SHA-256 (of the whole payload
 * and of each file). So a truncated, corrupt or foreign file is refused with the reason, never
 * half-read.
 */
import { createHash } from 'node:crypto';

/** What the first line starts with. */
export const backupMagic = 'ACCORD-BACKUP';
/** The format this code writes and the only one it reads. */
export const backupFormatVersion = 1;
/** The name of the PGlite data-directory tarball inside a backup. */
export const databaseTarballPath = 'pgdata.tar.gz';

/** One file held in the payload. */
export interface BackupFileEntry {
  /** Relative to the data directory, `/`-separated; `pgdata.tar.gz` is the database. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** What a backup says about itself. */
export interface BackupManifest {
  readonly type: 'accord.backup';
  readonly formatVersion: typeof backupFormatVersion;
  /** RFC 3339. */
  readonly createdAt: string;
  /** The `version` of the Accord package that wrote it. */
  readonly accordVersion: string;
  readonly database: {
    readonly kind: 'pglite';
    /** Migrations applied to the database when it was dumped. */
    readonly migrations: number;
  };
  /** The newest audit event in the dumped database (seq 0 and 64 zeros when there is none). */
  readonly audit: { readonly headSeq: number; readonly headHash: string };
  /** Whether `hub-signing-key.json` (the hub's private key) is among the files. */
  readonly hubKeyIncluded: boolean;
  readonly payload: { readonly bytes: number; readonly sha256: string };
  readonly files: readonly BackupFileEntry[];
}

/** A file for the payload. */
export interface BackupFile {
  readonly path: string;
  readonly data: Uint8Array;
}

/** A backup read back and checked. */
export interface DecodedBackup {
  readonly manifest: BackupManifest;
  readonly files: readonly BackupFile[];
}

/** A backup file that cannot be used; the message says what is wrong with it, in one line. */
export class BackupFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFileError';
  }
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/**
 * A path from a manifest must stay inside the data directory it is restored into, and must not
 * name the files restore manages itself: so relative, `/`-separated, no `.`/`..` or empty
 * segments, and plain characters only.
 */
const safeSegment = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const reservedTopLevel = new Set(['pgdata', 'accord.lock', 'accord.sock']);

export function isSafeBackupPath(path: string): boolean {
  if (path === databaseTarballPath) return true;
  const segments = path.split('/');
  if (segments.length > 8 || !segments.every((s) => safeSegment.test(s) && s !== '.' && s !== '..')) return false;
  return !reservedTopLevel.has(segments[0] ?? '') && !(segments[0] ?? '').startsWith('.accord-restore');
}

/**
 * Builds a backup file from its files and what the manifest says about the database. The
 * database tarball must be among the files.
 */
export function encodeBackup(
  about: Omit<BackupManifest, 'type' | 'formatVersion' | 'payload' | 'files'>,
  files: readonly BackupFile[],
): Buffer {
  const seen = new Set<string>();
  for (const file of files) {
    if (!isSafeBackupPath(file.path)) throw new TypeError(`cannot put ${JSON.stringify(file.path)} in a backup: not a plain relative path`);
    if (seen.has(file.path)) throw new TypeError(`${file.path} is twice in the backup`);
    seen.add(file.path);
  }
  if (!seen.has(databaseTarballPath)) throw new TypeError(`a backup needs ${databaseTarballPath}`);
  const payload = Buffer.concat(files.map((f) => f.data));
  const manifest: BackupManifest = {
    type: 'accord.backup',
    formatVersion: backupFormatVersion,
    ...about,
    payload: { bytes: payload.length, sha256: sha256(payload) },
    files: files.map((f) => ({ path: f.path, bytes: f.data.byteLength, sha256: sha256(f.data) })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  const header = Buffer.from(`${backupMagic}/${backupFormatVersion} ${manifestBytes.length} ${sha256(manifestBytes)}\n`, 'latin1');
  return Buffer.concat([header, manifestBytes, Buffer.from('\n'), payload]);
}

/** Names what a foreign file looks like, so the operator sees at once that it is the wrong file. */
function looksLike(bytes: Uint8Array): string {
  const start = Buffer.from(bytes.subarray(0, 512));
  if (start[0] === 0x1f && start[1] === 0x8b) return ' (it looks like a gzip file)';
  if (start.subarray(257, 262).toString('latin1') === 'ustar') return ' (it looks like a tar archive)';
  if (start.subarray(0, 5).toString('latin1') === 'PGDMP') return ' (it looks like a pg_dump archive: restore it with pg_restore)';
  if (start.subarray(0, 2).toString('latin1') === 'PK') return ' (it looks like a zip file)';
  const text = start.toString('utf8').trimStart();
  if (text.startsWith('{') || text.startsWith('[')) return ' (it looks like JSON)';
  if (/^(--|CREATE |SET |BEGIN)/.test(text)) return ' (it looks like SQL)';
  return '';
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isHex64 = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);

/** Checks a parsed manifest's shape; returns what is wrong, or undefined. */
function manifestProblem(m: Record<string, unknown>): string | undefined {
  if (m.type !== 'accord.backup') return 'its manifest is not an Accord backup manifest';
  if (m.formatVersion !== backupFormatVersion) return `its manifest says format ${JSON.stringify(m.formatVersion)}, not ${backupFormatVersion}`;
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) return 'its manifest has no valid createdAt';
  if (typeof m.accordVersion !== 'string') return 'its manifest has no accordVersion';
  const database = m.database;
  if (!isRecord(database) || database.kind !== 'pglite' || !isCount(database.migrations)) return 'its manifest does not describe an embedded (PGlite) database';
  const audit = m.audit;
  if (!isRecord(audit) || !isCount(audit.headSeq) || !isHex64(audit.headHash)) return 'its manifest has no valid audit head';
  if (typeof m.hubKeyIncluded !== 'boolean') return 'its manifest does not say whether the hub key is included';
  const payload = m.payload;
  if (!isRecord(payload) || !isCount(payload.bytes) || !isHex64(payload.sha256)) return 'its manifest does not describe the payload';
  if (!Array.isArray(m.files) || m.files.length === 0) return 'its manifest lists no files';
  const seen = new Set<string>();
  let total = 0;
  for (const file of m.files as unknown[]) {
    if (!isRecord(file) || typeof file.path !== 'string' || !isCount(file.bytes) || !isHex64(file.sha256)) return 'its manifest has a malformed file entry';
    if (!isSafeBackupPath(file.path)) return `its manifest names a file outside the data directory or reserved: ${JSON.stringify(file.path.slice(0, 200))}`;
    if (seen.has(file.path)) return `its manifest lists ${file.path} twice`;
    seen.add(file.path);
    total += file.bytes;
  }
  if (!seen.has(databaseTarballPath)) return `its manifest lists no database (${databaseTarballPath})`;
  if (total !== payload.bytes) return 'its manifest file sizes do not add up to the payload size';
  return undefined;
}

const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

/**
 * Reads a backup file and checks all of it: header, manifest checksum and shape, payload length
 * and checksums. Throws BackupFileError naming the first thing wrong.
 */
export function decodeBackup(bytes: Uint8Array): DecodedBackup {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length === 0) throw new BackupFileError('is empty');
  const newline = buffer.subarray(0, 200).indexOf(0x0a);
  const headerText = buffer.subarray(0, newline === -1 ? Math.min(buffer.length, 200) : newline).toString('latin1');
  if (!headerText.startsWith(`${backupMagic}/`)) {
    throw new BackupFileError(`is not an Accord backup: it does not start with ${backupMagic}/${looksLike(buffer)}`);
  }
  const version = /^ACCORD-BACKUP\/(\d+)(?: |$)/.exec(headerText)?.[1];
  if (version !== undefined && Number(version) !== backupFormatVersion) {
    throw new BackupFileError(`is in backup format ${version}; this version of Accord reads format ${backupFormatVersion}`);
  }
  if (newline === -1) throw new BackupFileError('is truncated or corrupt: its header line is incomplete');
  const header = /^ACCORD-BACKUP\/1 (\d{1,9}) ([0-9a-f]{64})$/.exec(headerText);
  if (header === null) throw new BackupFileError('is corrupt: its header line is malformed');
  const manifestLength = Number(header[1]);
  const manifestStart = newline + 1;
  const payloadStart = manifestStart + manifestLength + 1;
  if (buffer.length < payloadStart) throw new BackupFileError(`is truncated: it ends inside its manifest (${buffer.length} bytes in all)`);
  const manifestBytes = buffer.subarray(manifestStart, manifestStart + manifestLength);
  if (sha256(manifestBytes) !== header[2] || buffer[payloadStart - 1] !== 0x0a) {
    throw new BackupFileError('is corrupt: its manifest does not match the SHA-256 in its header');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestBytes.toString('utf8'));
  } catch {
    throw new BackupFileError('is corrupt: its manifest is not JSON');
  }
  if (!isRecord(parsed)) throw new BackupFileError('is corrupt: its manifest is not a JSON object');
  const problem = manifestProblem(parsed);
  if (problem !== undefined) throw new BackupFileError(`is not usable: ${problem}`);
  const manifest = parsed as unknown as BackupManifest;

  const payload = buffer.subarray(payloadStart);
  if (payload.length < manifest.payload.bytes) {
    throw new BackupFileError(
      `is truncated: ${payload.length} of its ${manifest.payload.bytes} payload bytes are present (${megabytes(payload.length)} of ${megabytes(manifest.payload.bytes)})`,
    );
  }
  if (payload.length > manifest.payload.bytes) {
    throw new BackupFileError(`is corrupt: ${payload.length - manifest.payload.bytes} unexpected bytes follow its payload`);
  }
  if (sha256(payload) !== manifest.payload.sha256) throw new BackupFileError('is corrupt: its payload does not match the SHA-256 in its manifest');
  const files: BackupFile[] = [];
  let offset = 0;
  for (const entry of manifest.files) {
    const data = payload.subarray(offset, offset + entry.bytes);
    offset += entry.bytes;
    // Covered by the payload hash already; checked again so each file is known good by itself.
    if (sha256(data) !== entry.sha256) throw new BackupFileError(`is corrupt: ${entry.path} does not match the SHA-256 in its manifest`);
    files.push({ path: entry.path, data });
  }
  return { manifest, files };
}
