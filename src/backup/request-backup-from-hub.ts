import net from 'node:net';
import { backupRequestType, backupSocketPath } from './backup-socket.js';

/** A backup a running hub made. */
export interface HubBackup {
  readonly bytes: Buffer;
  /** Data-directory entries the hub left out (see createBackup). */
  readonly skipped: readonly string[];
}

export interface RequestBackupOptions {
  /** Give up when the hub sends nothing for this long (default 120 s). */
  readonly idleTimeoutMs?: number;
  /** Called as bytes arrive. */
  readonly onProgress?: (received: number, total: number) => void;
}

/** Connection errors that mean "no hub is listening here", not "the hub failed". */
const noHub = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ENAMETOOLONG', 'EACCES', 'EPERM']);

/**
 * Asks the hub running on `dataDir` for a backup through its socket (backup-socket.ts).
 * Resolves with undefined when no hub listens there (no socket, or one left by a hub that has
 * gone), so the caller can open the database itself; rejects when a hub answered but failed.
 */
export function requestBackupFromHub(dataDir: string, options: RequestBackupOptions = {}): Promise<HubBackup | undefined> {
  const socketPath = backupSocketPath(dataDir);
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let connected = false;
    let settled = false;
    const chunks: Buffer[] = [];
    let length = 0;
    let header: { ok: boolean; bytes?: number; skipped?: string[]; error?: string } | undefined;
    let headerLength = 0;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      outcome();
    };
    socket.setTimeout(options.idleTimeoutMs ?? 120_000, () =>
      settle(() => reject(new Error(`the running hub sent nothing for ${Math.round((options.idleTimeoutMs ?? 120_000) / 1000)} s: backup abandoned`))),
    );
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify({ type: backupRequestType, version: 1 })}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (header === undefined) {
        const all = Buffer.concat(chunks);
        const newline = all.indexOf(0x0a);
        if (newline === -1) return;
        try {
          header = JSON.parse(all.subarray(0, newline).toString('utf8')) as typeof header;
        } catch {
          settle(() => reject(new Error('the running hub answered the backup request with something unreadable')));
          return;
        }
        headerLength = newline + 1;
      }
      if (header?.ok === true && typeof header.bytes === 'number') options.onProgress?.(length - headerLength, header.bytes);
    });
    socket.once('end', () => {
      const all = Buffer.concat(chunks);
      if (header === undefined) {
        settle(() => reject(new Error('the running hub closed the connection without making a backup')));
      } else if (header.ok !== true) {
        settle(() => reject(new Error(`the running hub could not make the backup: ${header?.error ?? 'no reason given'}`)));
      } else {
        const bytes = all.subarray(headerLength);
        if (bytes.length !== header.bytes) {
          settle(() => reject(new Error(`the running hub's backup arrived incomplete (${bytes.length} of ${header?.bytes ?? '?'} bytes)`)));
        } else {
          settle(() => resolve({ bytes, skipped: Array.isArray(header?.skipped) ? header.skipped : [] }));
        }
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && noHub.has(error.code ?? '')) settle(() => resolve(undefined));
      else settle(() => reject(new Error(`the backup from the running hub failed: ${error.code ?? error.message}`)));
    });
  });
}
