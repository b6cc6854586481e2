/**
 * Real hub processes for reliability tests: `accord serve` started as an operator starts it
 * (`node bin/accord.js serve`), on a database the test prepared first (an embedded data
 * directory on disk, or a PostgreSQL database of this run), then signalled, killed or
 * restarted for real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/db/index.js';
import { createTestDatabase, testBackend, type TestDatabase } from './test-database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'bin', 'accord.js');

/** A database on disk or on the PostgreSQL server that hub processes can open after the test does. */
export interface SharedDatabase {
  /** The test's own handle, for preparing data and reading the trail. Close it before a PGlite hub starts. */
  database: TestDatabase;
  /** The data directory (on PGlite: the database itself; on PostgreSQL: the hub key file only). */
  readonly dataDir: string;
  /** What a hub process needs in its environment to open this database. */
  readonly env: Record<string, string>;
  /** Opens the test's handle again (PGlite: after the hub process has let go of the directory). */
  reopen(): Promise<TestDatabase>;
  /** Closes the test's handle and removes the database files. */
  dispose(): Promise<void>;
}

export async function createSharedDatabase(): Promise<SharedDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-proc-'));
  if (testBackend === 'postgres') {
    const database = await createTestDatabase();
    return {
      database,
      dataDir,
      env: { DATABASE_URL: database.url as string, ACCORD_DATA_DIR: dataDir },
      reopen: async () => database,
      async dispose() {
        await database.close().catch(() => undefined);
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const open = async (): Promise<TestDatabase> => {
    const database = await openDatabase({ dataDir, lockOwner: 'test' });
    await database.migrate();
    return { ...database, url: undefined, reopen: async () => database };
  };
  const shared: SharedDatabase = {
    database: await open(),
    dataDir,
    env: { ACCORD_DATA_DIR: dataDir },
    async reopen() {
      shared.database = await open();
      return shared.database;
    },
    async dispose() {
      await shared.database.close().catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return shared;
}

export interface HubProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Base URL, e.g. http://127.0.0.1:43123. */
  readonly url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has exited, with how long after this call it took. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>;
}

/**
 * Starts `accord serve` on a free port and resolves once it is ready (`/readyz` 200). The
 * process inherits nothing of the test's database settings but what `env` gives it. The
 * partnership rate limit is lifted (`env` may set it): these processes are driven by a load
 * generator to test crashes, stops and outages, not the limiter, and a 429 would only blur that.
 */
export async function startHubProcess(env: Record<string, string>, options: { readyWithinMs?: number } = {}): Promise<HubProcess> {
  const { DATABASE_URL: _notInherited, ...inherited } = process.env;
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd: root,
    env: {
      ...inherited,
      ACCORD_MODE: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ACCORD_RATE_LIMIT_PER_SECOND: '100000',
      ACCORD_RATE_LIMIT_BURST: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + (options.readyWithinMs ?? 30_000);
  let url: string | undefined;
  let exitedEarly = false;
  void exit.then(() => (exitedEarly = true));
  while (Date.now() < deadline && !exitedEarly) {
    url ??= /GraphQL\s+(http:\/\/\S+)\/graphql/.exec(output)?.[1];
    if (url !== undefined) {
      const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (url === undefined || exitedEarly || Date.now() >= deadline) {
    child.kill('SIGKILL');
    throw new Error(`accord serve did not become ready:\n${output}`);
  }
  return {
    child,
    pid: child.pid as number,
    url,
    output: () => output,
    async exited() {
      const since = performance.now();
      const result = await exit;
      return { ...result, afterMs: performance.now() - since };
    },
  };
}

/** Kills a process that is still running (test clean-up); resolves once it is gone. */
export async function killHubProcess(hub: HubProcess | undefined): Promise<void> {
  if (hub === undefined || hub.child.exitCode !== null || hub.child.signalCode !== null) return;
  const gone = hub.exited();
  hub.child.kill('SIGKILL');
  await gone;
}
