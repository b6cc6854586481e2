/**
 * The running hub's side of `accord backup`. PGlite's files belong to the one process that has
 * them open (the data-directory lock), so while a hub runs on the embedded database a backup
 * can only come from that hub: it listens on `<dataDir>/accord.sock`, a Unix domain socket
 * that only the data directory's OS user may connect to (mode 0600: the same trust as reading
 * the directory's files, which is what a backup hands over).
 *
 * Protocol, one exchange a connection: the client sends one line of JSON,
 * `{"type":"accord.backup-request","version":1}`; the hub answers one line of JSON, then the
 * backup file's bytes: `{"ok":true,"bytes":N,"skipped":[...]}` and N bytes, or
 * `{"ok":false,"error":"..."}` and nothing.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Database } from '../db/index.js';
import { accordVersion } from './accord-version.js';
import { createBackup } from './create-backup.js';
import { snapshotEmbeddedDatabase } from './snapshot-embedded-database.js';

/** The socket file's name in the data directory. */
export const backupSocketName = 'accord.sock';

export const backupRequestType = 'accord.backup-request';

export function backupSocketPath(dataDir: string): string {
  return path.join(dataDir, backupSocketName);
}

/** What the socket logs through (the hub's pino logger fits). */
export interface BackupSocketLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface BackupSocketOptions {
  /** The data directory the hub holds (and whose lock it has taken). */
  readonly dataDir: string;
  /** The hub's open embedded database. */
  readonly database: Database;
  readonly clock: Clock;
  readonly logger: BackupSocketLogger;
}

/** A request line longer than this is not a backup request. */
const maxRequestBytes = 1024;
/** A client that sends no request within this long is disconnected. */
const requestTimeoutMs = 10_000;

const noop = async () => undefined;

/**
 * Starts answering backup requests on `<dataDir>/accord.sock` and resolves with the function
 * that stops it (waiting for a backup in progress, then removing the socket file). Call it only
 * while holding the data directory's lock; a socket file found there is then stale and replaced.
 * Where a socket cannot be made (Windows, a path longer than the OS allows), it logs why and
 * the hub runs on without it: `accord backup` then needs the hub stopped.
 */
export async function startBackupSocket(options: BackupSocketOptions): Promise<() => Promise<void>> {
  const { dataDir, database, logger } = options;
  if (database.kind !== 'pglite' || dataDir === 'memory://' || process.platform === 'win32') return noop;
  const socketPath = backupSocketPath(dataDir);
  try {
    if (fs.lstatSync(socketPath).isSocket()) fs.rmSync(socketPath, { force: true });
  } catch {
    // Not there: nothing stale to remove.
  }

  let stopped = false;
  // One backup at a time: each holds a dump of the whole database in memory.
  let queue: Promise<void> = Promise.resolve();
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(requestTimeoutMs, () => socket.destroy());
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const newline = received.indexOf(0x0a);
      if (newline === -1) {
        if (received.length > maxRequestBytes) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.setTimeout(0);
      queue = queue.then(() => answer(socket, received.subarray(0, newline).toString('utf8')));
    };
    socket.on('data', onData);
  });

  const answer = async (socket: net.Socket, requestLine: string): Promise<void> => {
    let request: unknown;
    try {
      request = JSON.parse(requestLine);
    } catch {
      request = undefined;
    }
    const { type, version } = (request ?? {}) as { type?: unknown; version?: unknown };
    if (type !== backupRequestType || version !== 1) {
      socket.end(`${JSON.stringify({ ok: false, error: 'not a backup request this hub understands' })}\n`);
      return;
    }
    if (stopped || socket.destroyed) {
      socket.destroy();
      return;
    }
    const started = performance.now();
    try {
      const snapshot = await snapshotEmbeddedDatabase(database);
      const backup = await createBackup({ dataDir, snapshot, accordVersion: accordVersion(), clock: options.clock });
      // A client that stops reading is dropped rather than left holding the queue.
      socket.setTimeout(requestTimeoutMs, () => socket.destroy());
      await new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.write(`${JSON.stringify({ ok: true, bytes: backup.bytes.length, skipped: backup.skipped })}\n`);
        socket.end(backup.bytes);
      });
      logger.info(
        { bytes: backup.bytes.length, auditHeadSeq: snapshot.auditHead.seq, durationMs: Math.round(performance.now() - started) },
        'backup sent to accord backup',
      );
    } catch (error) {
      logger.warn({ err: error }, 'backup failed');
      socket.end(`${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : 'backup failed' })}\n`);
    }
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Created 0600 from the start (the bind is synchronous, so the umask covers exactly it):
      // a chmod afterwards would leave a moment in which any local user could connect.
      const restoreUmask = setUmask(0o177);
      try {
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        restoreUmask();
      }
    });
    fs.chmodSync(socketPath, 0o600);
  } catch (error) {
    server.close();
    logger.warn({ err: error, socketPath }, 'backup socket not started: `accord backup` will need the hub stopped');
    return noop;
  }
  // Never what keeps the process alive: the hub's HTTP server and its shutdown decide that.
  server.unref();
  server.on('error', (error) => logger.warn({ err: error }, 'backup socket error'));

  return async () => {
    if (stopped) return;
    stopped = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A backup in progress finishes before the database closes under it; requests queued
    // behind it are dropped (they see `stopped`).
    for (let current = queue; ; current = queue) {
      await current;
      if (current === queue) break;
    }
    for (const socket of connections) socket.destroy();
    await closed;
    fs.rmSync(socketPath, { force: true });
  };
}

/** Sets the process umask where that is allowed (not in worker threads); returns how to put it back. */
function setUmask(mask: number): () => void {
  try {
    const previous = process.umask(mask);
    return () => process.umask(previous);
  } catch {
    return () => undefined;
  }
}
