/**
 * Starts the baseline and the hub in child processes (see server-process.ts) and talks to them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, EventLoopDelay, ServerKind, ServerStats } from './server-process.js';

const entry = fileURLToPath(new URL('./server-process.ts', import.meta.url));

export interface ServerHandle {
  readonly kind: ServerKind;
  readonly url: string;
  readonly pid: number;
  stats(): Promise<ServerStats>;
  /** Event-loop delay since the previous call (or the start). */
  eventLoopDelay(): Promise<EventLoopDelay>;
  /** Starts the CPU profiler inside the server (measurement window only, no start-up). */
  startProfile(): Promise<void>;
  /** Stops it and writes the .cpuprofile to `file`. */
  stopProfile(file: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  readonly databaseUrl: string;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
  readonly countQueries?: boolean;
  readonly logLevel?: string;
  /** Ablations of the hub (bench/experiments/ablations.ts). */
  readonly ablations?: readonly string[];
}

const running = new Set<ChildProcess>();

/** Kills every child still running (Ctrl-C path). */
export function killServers(): void {
  for (const child of running) child.kill('SIGTERM');
}

export async function startServer(kind: ServerKind, options: StartServerOptions): Promise<ServerHandle> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `accord-bench-${kind}-`));
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx', ...(options.nodeArgs ?? [])],
    // The hub logs one JSON line per request (production default, level info): it writes them
    // as it would in production, to a sink that costs only the write.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      BENCH_SERVER: kind,
      BENCH_DATABASE_URL: options.databaseUrl,
      BENCH_DATA_DIR: dataDir,
      BENCH_COUNT_QUERIES: options.countQueries === true ? '1' : '0',
      ...(options.logLevel === undefined ? {} : { BENCH_LOG_LEVEL: options.logLevel }),
      BENCH_ABLATIONS: (options.ablations ?? []).join(','),
    },
  });
  running.add(child);
  const waiters: ((message: ChildMessage) => void)[] = [];
  child.on('message', (message: ChildMessage) => waiters.shift()?.(message));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    running.delete(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const nextMessage = () =>
    new Promise<ChildMessage>((resolve, reject) => {
      waiters.push(resolve);
      void exited.then(() => reject(new Error(`${kind} server exited`)));
    });

  const ready = await nextMessage();
  if (ready.type !== 'ready') throw new Error(`${kind} server: unexpected ${ready.type}`);
  return {
    kind,
    url: ready.url,
    pid: child.pid as number,
    async stats() {
      const reply = nextMessage();
      child.send({ type: 'stats' });
      const message = await reply;
      if (message.type !== 'stats') throw new Error(`${kind} server: unexpected ${message.type}`);
      return message.stats;
    },
    async eventLoopDelay() {
      const reply = nextMessage();
      child.send({ type: 'event-loop' });
      const message = await reply;
      if (message.type !== 'event-loop') throw new Error(`${kind} server: unexpected ${message.type}`);
      return message.delay;
    },
    async startProfile() {
      const reply = nextMessage();
      child.send({ type: 'profile-start' });
      if ((await reply).type !== 'profile-started') throw new Error(`${kind} server: profiler did not start`);
    },
    async stopProfile(file) {
      const reply = nextMessage();
      child.send({ type: 'profile-stop', file });
      if ((await reply).type !== 'profile-written') throw new Error(`${kind} server: profile not written`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
