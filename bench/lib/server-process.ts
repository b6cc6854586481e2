/**
 * One server of the benchmark in its own process (started by servers.ts), so the load
 * generator, the baseline and the hub each get a fair share of the machine's cores.
 *
 * BENCH_SERVER=baseline|accord|peer (peer: the baseline plus hand-rolled JWT verification and one
 * audit INSERT per request, see bench/baseline/baseline-server.ts), BENCH_DATABASE_URL, BENCH_DATA_DIR (accord), BENCH_COUNT_QUERIES=1
 * to count SQL statements (profiling). Talks to the parent over IPC: sends `ready` with its URL,
 * answers `stats` with its RSS, CPU time and statement count, and exits on `stop` or when the
 * parent goes away. Also answers `event-loop` with the p99 and maximum of its event-loop delay
 * since the previous such question (--soak).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createApp } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/index.js';
import { createBaselineServer } from '../baseline/baseline-server.js';
import { applyAblations, parseAblations } from '../experiments/ablations.js';
import { benchHubId } from './token-pool.js';
import { startWindowProfile, type WindowProfile } from './window-profile.js';

export type ServerKind = 'baseline' | 'accord' | 'peer';

export interface ServerStats {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** CPU time used by this process so far (user + system), microseconds. */
  readonly cpuMicros: number;
  /** SQL statements sent so far (0 unless BENCH_COUNT_QUERIES=1). */
  readonly queries: number;
  /** Statements so far by their first words (BENCH_COUNT_QUERIES=1). */
  readonly statements: Readonly<Record<string, number>>;
}

/** Event-loop delay over a window (node:perf_hooks `monitorEventLoopDelay`, 10 ms resolution). */
export interface EventLoopDelay {
  readonly p99Ms: number;
  readonly maxMs: number;
}

export type ParentMessage = { type: 'stats' } | { type: 'event-loop' } | { type: 'stop' } | { type: 'profile-start' } | { type: 'profile-stop'; file: string };
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'stats'; stats: ServerStats }
  | { type: 'event-loop'; delay: EventLoopDelay }
  | { type: 'profile-started' }
  | { type: 'profile-written'; file: string }
  | { type: 'stopped' };

const kind = process.env.BENCH_SERVER as ServerKind;
const databaseUrl = process.env.BENCH_DATABASE_URL as string;
let queries = 0;
const statements: Record<string, number> = {};
function countQuery(query: string): void {
  queries += 1;
  const key = query.replace(/\s+/g, ' ').slice(0, 90);
  statements[key] = (statements[key] ?? 0) + 1;
}
const database = await openDatabase({
  databaseUrl,
  dataDir: '',
  ...(process.env.BENCH_COUNT_QUERIES === '1' ? { onQuery: countQuery } : {}),
});

const eventLoopDelay = monitorEventLoopDelay({ resolution: 10 });
eventLoopDelay.enable();

let stop: () => Promise<void>;
let url: string;
if (kind === 'accord') {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    ACCORD_MODE: 'production',
    ACCORD_HUB_ID: benchHubId,
    ACCORD_DATA_DIR: process.env.BENCH_DATA_DIR,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    // The per-organisation limit still runs on every request; it is only set high enough that
    // one organisation may drive the whole benchmark.
    ACCORD_RATE_LIMIT_PER_SECOND: '1000000',
    ACCORD_RATE_LIMIT_BURST: '1000000',
  });
  const app = await createApp(config, { database, seedDemo: false });
  await applyAblations(app.services, parseAblations(process.env.BENCH_ABLATIONS));
  ({ url } = await app.start({ port: 0, host: '127.0.0.1' }));
  stop = () => app.stop();
} else {
  const server = await createBaselineServer({
    db: database.db,
    clock: systemClock,
    publisher: 'kensington-chelsea',
    ...(kind === 'peer' ? { peer: { hubId: benchHubId } } : {}),
  });
  url = await server.start(0, '127.0.0.1');
  stop = () => server.stop();
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function shutdown(): Promise<void> {
  eventLoopDelay.disable();
  await stop().catch(() => undefined);
  await database.close().catch(() => undefined);
  send({ type: 'stopped' });
  // process.exit (not a natural end) so --cpu-prof writes its profile straight away.
  process.exit(0);
}

let windowProfile: WindowProfile | undefined;
process.on('message', (message: ParentMessage) => {
  if (message.type === 'profile-start') {
    void startWindowProfile().then((started) => {
      windowProfile = started;
      send({ type: 'profile-started' });
    });
  } else if (message.type === 'profile-stop') {
    void windowProfile?.stop(message.file).then(() => send({ type: 'profile-written', file: message.file }));
  } else if (message.type === 'stats') {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    send({ type: 'stats', stats: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, cpuMicros: cpu.user + cpu.system, queries, statements: { ...statements } } });
  } else if (message.type === 'event-loop') {
    // The histogram records nanoseconds; it restarts at each question, so each answer covers one window.
    send({ type: 'event-loop', delay: { p99Ms: eventLoopDelay.percentile(99) / 1e6, maxMs: eventLoopDelay.max / 1e6 } });
    eventLoopDelay.reset();
  } else if (message.type === 'stop') {
    void shutdown();
  }
});
process.on('disconnect', () => void shutdown());
send({ type: 'ready', url });
