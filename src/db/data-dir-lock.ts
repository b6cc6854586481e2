import fs from 'node:fs';
import path from 'node:path';

/** Thrown when another live process owns the data directory. */
export class DataDirLockedError extends Error {
  readonly pid: number;
  constructor(dataDir: string, owner: LockOwner) {
    super(
      `the data directory ${dataDir} is in use by process ${owner.pid} (${owner.command}, since ${owner.startedAt}). ` +
        'The embedded database cannot be shared between processes: stop that process first, ' +
        'or point both at PostgreSQL with DATABASE_URL.',
    );
    this.name = 'DataDirLockedError';
    this.pid = owner.pid;
  }
}

/** What a stale lock said about the process that left it. */
export interface StaleLock {
  readonly lockPath: string;
  readonly pid: number;
  readonly command: string;
  readonly startedAt: string;
}

interface LockOwner {
  pid: number;
  command: string;
  startedAt: string;
  /** Set by a hub that has begun shutting down: it will release the lock within seconds. */
  stopping?: boolean;
}

/** How long a command waits for a hub that is shutting down to release the directory. */
const stoppingWaitMs = 15_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/**
 * Lock files this process holds. A lock file naming our own pid that is not in here was left by
 * an earlier process that had the same pid (a container's pid 1 restarting after a crash): stale.
 */
const heldHere = new Set<string>();

/**
 * Marks every data directory lock this process holds as "stopping", so a CLI command started
 * just after `kill` (the README's walkthrough does exactly that) waits for the release instead
 * of refusing.
 */
export function markDataDirsStopping(): void {
  for (const lockPath of heldHere) {
    try {
      const owner = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner;
      if (owner.pid === process.pid) fs.writeFileSync(lockPath, JSON.stringify({ ...owner, stopping: true }), { mode: 0o600 });
    } catch {
      // Gone or unreadable: nothing to mark.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process. PGlite's files have no cross-process lock and a
 * second writer silently loses data, so every process that opens them (the hub and each CLI
 * command) must hold this lock first. The lock file is created with O_EXCL, so two processes
 * racing cannot both win; a lock left by a process that died is taken over.
 */
export function acquireDataDirLock(dataDir: string, command: string, onStale?: (stale: StaleLock) => void): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'accord.lock');
  const me: LockOwner = { pid: process.pid, command, startedAt: new Date().toISOString() };
  const waitUntil = Date.now() + stoppingWaitMs;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      fs.writeFileSync(lockPath, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      let released = false;
      heldHere.add(lockPath);
      const release = () => {
        if (released) return;
        released = true;
        heldHere.delete(lockPath);
        process.off('exit', release);
        try {
          const owner = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner;
          if (owner.pid === process.pid) fs.unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      };
      process.on('exit', release);
      return { path: lockPath, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner: LockOwner | undefined;
    try {
      owner = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner;
    } catch {
      owner = undefined;
    }
    if (owner?.stopping === true && owner.pid !== process.pid && isAlive(owner.pid) && Date.now() < waitUntil) {
      // A hub shutting down: wait for its release rather than refuse (not a failed attempt).
      sleepSync(100);
      attempt -= 1;
      continue;
    }
    if (owner !== undefined && owner.pid !== process.pid && isAlive(owner.pid)) {
      throw new DataDirLockedError(dataDir, owner);
    }
    if (owner !== undefined && owner.pid === process.pid && heldHere.has(lockPath)) {
      throw new DataDirLockedError(dataDir, owner);
    }
    // Stale (its process is gone: a crash, kill -9, a power cut) or unreadable: take it over.
    // Safe because only a live process can hold PGlite's files open; the database itself
    // recovers from its write-ahead log when it is opened.
    fs.rmSync(lockPath, { force: true });
    if (owner !== undefined) onStale?.({ lockPath, pid: owner.pid, command: owner.command, startedAt: owner.startedAt });
  }
  throw new Error(`could not take the lock on ${dataDir}`);
}
