/**
 * The load-balancer check behind bench/lb/run.sh (which installs HAProxy and gives this a work
 * directory in ACCORD_LB_WORK). Starts, each with its teardown registered as it starts:
 *
 * 1. a fresh database on DATABASE_URL's server with the bench partnership and a few records;
 * 2. the hub's signing key, made with `accord keys generate`;
 * 3. two hubs, `accord serve` in production mode, sharing that database and key;
 * 4. HAProxy with bench/lb/haproxy.cfg, waiting until it sees both hubs up.
 *
 * Then drives the mixed traffic of --soak (reads, publishes, agreement changes, each with a fresh
 * real token, each response checked) through the balancer; half-way it stops hub1 (SIGTERM, as an
 * orchestrator would) and watches HAProxy mark it down. Passes when every response was good, both
 * hubs served before the stop, hub1 was marked down and hub2 served everything after.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/clock.js';
import { createBenchDatabase, defaultDatabaseUrl } from '../lib/bench-database.js';
import { generateRecords, nhsNumbers, type RecordPlan } from '../lib/generate-records.js';
import { counterTotal, fetchMetrics } from '../lib/hub-gauges.js';
import { mixedTraffic } from '../lib/mixed-traffic.js';
import { runPacedLoad, type PacedResult } from '../lib/paced-load.js';
import { buildPartnership } from '../lib/partnership.js';
import { log } from '../lib/progress.js';
import { createTokenSigner } from '../lib/token-pool.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '40' }, rate: { type: 'string', default: '30' } }, strict: true });
const durationSeconds = Number(values.duration);
const ratePerSecond = Number(values.rate);
if (!(durationSeconds >= 10 && durationSeconds <= 600) || !(ratePerSecond > 0 && ratePerSecond <= 500)) {
  console.error('--duration must be 10 to 600 seconds and --rate 1 to 500 requests/s');
  process.exit(2);
}
const work = process.env.ACCORD_LB_WORK;
if (work === undefined || !fs.existsSync(work)) {
  console.error('run me through bench/lb/run.sh (it sets ACCORD_LB_WORK)');
  process.exit(2);
}
const baseUrl = process.env.DATABASE_URL ?? defaultDatabaseUrl;
const hubId = 'accord-hub';
const config = path.resolve('bench/lb/haproxy.cfg');
const accordCli = path.resolve('bin/accord.js');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Teardown beside setup: each start pushes its stop; they run in reverse, on success, failure or Ctrl-C.
const teardown: (() => Promise<void>)[] = [];
const running = new Set<number>();
/** run.sh's safety net: the pids still running, should this process die without its teardown. */
const writePids = () => fs.writeFileSync(path.join(work, 'pids'), [...running].map((pid) => `${pid}\n`).join(''));

function startProcess(name: string, command: string, args: readonly string[], env: Record<string, string>): { child: ChildProcess; logFile: string; stop(): Promise<void> } {
  const logFile = path.join(work as string, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  running.add(pid);
  writePids();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    running.delete(pid);
    writePids();
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  teardown.push(stop);
  return { child, logFile, stop };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(what: string, seconds: number, ready: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (await ready().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what} not ready after ${seconds} s`);
}

/** HAProxy's `show stat` over its admin socket: status and counters per server of the backend. */
async function serverStats(socket: string): Promise<Map<string, { status: string; sessions: number; responses2xx: number; responses5xx: number }>> {
  const text = await new Promise<string>((resolve, reject) => {
    const connection = net.connect(socket, () => connection.end('show stat\n'));
    let data = '';
    connection.setEncoding('utf8');
    connection.on('data', (chunk: string) => (data += chunk));
    connection.on('end', () => resolve(data));
    connection.on('error', reject);
    connection.setTimeout(2_000, () => connection.destroy(new Error('HAProxy admin socket timed out')));
  });
  const [header, ...rows] = text.trim().split('\n');
  const columns = (header ?? '').replace(/^# /, '').split(',');
  const column = (row: string[], name: string) => row[columns.indexOf(name)] ?? '';
  const servers = new Map<string, { status: string; sessions: number; responses2xx: number; responses5xx: number }>();
  for (const line of rows) {
    const row = line.split(',');
    if (column(row, 'pxname') !== 'accord_hubs' || ['FRONTEND', 'BACKEND'].includes(column(row, 'svname'))) continue;
    servers.set(column(row, 'svname'), {
      status: column(row, 'status'),
      sessions: Number(column(row, 'stot')),
      responses2xx: Number(column(row, 'hrsp_2xx')),
      responses5xx: Number(column(row, 'hrsp_5xx')),
    });
  }
  return servers;
}

async function main(): Promise<boolean> {
  // 1. The database, the partnership and a few records.
  const bench = await createBenchDatabase(baseUrl, 'accord_lb');
  fs.writeFileSync(path.join(work as string, 'database'), bench.name);
  teardown.push(async () => {
    await bench.drop();
    fs.rmSync(path.join(work as string, 'database'), { force: true });
    log(`database ${bench.name} dropped`);
  });
  log(`database ${bench.name} created and migrated`);
  const partnership = await buildPartnership(bench.database.db, systemClock);
  const plan: RecordPlan = { single: nhsNumbers(1_000, 900_000_000), rich: nhsNumbers(200, 910_000_000), background: [], backgroundPerSubject: 0 };
  await generateRecords(bench.sql, plan);

  // 2. One hub key for every instance, made the way docs/operator.md §2 says.
  const keyDir = path.join(work as string, 'hub-key');
  const keys = spawnSync(process.execPath, [accordCli, 'keys', 'generate', '--alg', 'EdDSA', '--kid', 'accord-hub-lb', '--out', keyDir], { encoding: 'utf8' });
  if (keys.status !== 0) throw new Error(`accord keys generate failed: ${keys.stderr}`);
  const hubKeyFile = path.join(keyDir, 'accord-hub-lb.private.jwk.json');

  // 3. Two hubs, as an operator runs them.
  const hubs: { name: string; url: string; process: ReturnType<typeof startProcess> }[] = [];
  for (const name of ['hub1', 'hub2']) {
    const port = await freePort();
    const hubProcess = startProcess(name, process.execPath, [accordCli, 'serve'], {
      ACCORD_MODE: 'production',
      DATABASE_URL: bench.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      ACCORD_HUB_ID: hubId,
      ACCORD_HUB_KEY_FILE: hubKeyFile,
      ACCORD_DATA_DIR: path.join(work as string, name),
      LOG_LEVEL: 'warn',
      // One organisation drives all the traffic here: lift its limit above the check's rate.
      ACCORD_RATE_LIMIT_PER_SECOND: '10000',
      ACCORD_RATE_LIMIT_BURST: '10000',
    });
    hubs.push({ name, url: `http://127.0.0.1:${port}`, process: hubProcess });
  }
  for (const hub of hubs) await waitFor(`${hub.name} /readyz`, 60, async () => (await fetch(`${hub.url}/readyz`)).status === 200);
  log(`hubs ready: ${hubs.map((h) => `${h.name} ${h.url} (pid ${h.process.child.pid})`).join(', ')}`);

  // 4. HAProxy with the repository's configuration.
  const lbPort = await freePort();
  const socket = path.join(work as string, 'haproxy.sock');
  const haproxyEnv = {
    ACCORD_LB_BIND: `127.0.0.1:${lbPort}`,
    ACCORD_HUB1: (hubs[0] as (typeof hubs)[number]).url.slice('http://'.length),
    ACCORD_HUB2: (hubs[1] as (typeof hubs)[number]).url.slice('http://'.length),
    ACCORD_LB_STATS_SOCKET: socket,
  };
  const valid = spawnSync('haproxy', ['-c', '-q', '-f', config], { env: { ...process.env, ...haproxyEnv }, encoding: 'utf8' });
  if (valid.status !== 0) throw new Error(`haproxy -c rejected ${config}: ${valid.stderr}${valid.stdout}`);
  const haproxy = startProcess('haproxy', 'haproxy', ['-db', '-f', config], haproxyEnv);
  const lbUrl = `http://127.0.0.1:${lbPort}`;
  await waitFor('HAProxy with both hubs UP', 30, async () => [...(await serverStats(socket)).values()].filter((s) => s.status === 'UP').length === 2);
  log(`HAProxy on ${lbUrl} (pid ${haproxy.child.pid}), both hubs UP on /readyz`);
  // The hub echoes the request id it used: HAProxy's when valid, a UUID of its own otherwise.
  const requestId = (await fetch(`${lbUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).headers.get('x-request-id') ?? '';
  const uuidShaped = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  // 5. Traffic through the balancer; hub1 stops half-way.
  const requestsServed = async (url: string) => counterTotal(await fetchMetrics(url), 'accord_graphql_requests_total');
  const servedBefore = await Promise.all(hubs.map((h) => requestsServed(h.url)));
  const signer = (identity: Parameters<typeof createTokenSigner>[0]) => createTokenSigner(identity, { hubId, clock: systemClock });
  const traffic = mixedTraffic({
    singleSubjects: plan.single,
    richSubjects: plan.rich,
    publishSubjects: nhsNumbers(200, 930_000_000),
    publishPercent: 15,
    agreementChangeEvery: Math.max(1, Math.round(ratePerSecond * 10)),
    runTag: `lb-${Date.now().toString(36)}`,
    reader: await signer(partnership.reader),
    publisher: await signer(partnership.publisher),
    admin: await signer(partnership.hubAdmin),
    keys: partnership.keys,
    clock: systemClock,
  });
  const phases = { before: { good: 0, bad: 0 }, after: { good: 0, bad: 0 } };
  const problems = new Map<string, number>();
  // Set once hub1 is stopped; read by every result from then on.
  const stop: { atMs?: number } = {};
  const onResult = (result: PacedResult) => {
    const phase = stop.atMs === undefined || result.endedMs < stop.atMs ? phases.before : phases.after;
    if (result.problem === undefined) phase.good += 1;
    else {
      phase.bad += 1;
      problems.set(`${result.kind}: ${result.problem}`, (problems.get(`${result.kind}: ${result.problem}`) ?? 0) + 1);
    }
  };
  const loadStarted = performance.now();
  const load = runPacedLoad({ url: `${lbUrl}/graphql`, ratePerSecond, concurrency: 8, durationSeconds, nextRequest: traffic.nextRequest, onResult });

  await sleep((durationSeconds * 1000) / 2);
  const hub1 = hubs[0] as (typeof hubs)[number];
  const hub1Served = (await requestsServed(hub1.url)) - (servedBefore[0] as number);
  const hub2ServedAtStop = (await requestsServed((hubs[1] as (typeof hubs)[number]).url)) - (servedBefore[1] as number);
  const stoppedAtMs = performance.now() - loadStarted;
  stop.atMs = stoppedAtMs;
  log(`${(stoppedAtMs / 1000).toFixed(1)} s: stopping hub1 (SIGTERM) with traffic running; hub1 had served ${hub1Served}, hub2 ${hub2ServedAtStop}`);
  const hub1Stopped = hub1.process.stop();
  let markedDownAfterMs: number | undefined;
  const watchUntil = performance.now() + 20_000;
  while (performance.now() < watchUntil) {
    if ((await serverStats(socket)).get('hub1')?.status.startsWith('DOWN') === true) {
      markedDownAfterMs = performance.now() - loadStarted - stoppedAtMs;
      break;
    }
    await sleep(100);
  }
  await hub1Stopped;
  log(markedDownAfterMs === undefined ? 'HAProxy did NOT mark hub1 down within 20 s' : `HAProxy marked hub1 DOWN ${(markedDownAfterMs / 1000).toFixed(1)} s after the stop`);
  const statsAtDown = await serverStats(socket);
  const sent = await load;
  const statsAtEnd = await serverStats(socket);
  const hub2 = hubs[1] as (typeof hubs)[number];
  const hub2Served = (await requestsServed(hub2.url)) - (servedBefore[1] as number);

  // 6. The verdict.
  const hub1AfterDown = (statsAtEnd.get('hub1')?.sessions ?? 0) - (statsAtDown.get('hub1')?.sessions ?? 0);
  const checks: [string, boolean][] = [
    [`every response good (200 with data, no errors): ${phases.before.good + phases.after.good} of ${sent}`, phases.before.bad + phases.after.bad === 0 && phases.before.good + phases.after.good === sent],
    [`both hubs served before the stop: hub1 ${hub1Served}, hub2 ${hub2ServedAtStop} GraphQL requests (their /metrics)`, hub1Served > 0 && hub2ServedAtStop > 0],
    [`HAProxy marked hub1 down on /readyz: ${markedDownAfterMs === undefined ? 'no' : `after ${(markedDownAfterMs / 1000).toFixed(1)} s`}`, markedDownAfterMs !== undefined],
    [`after the stop: ${phases.after.good} good, ${phases.after.bad} bad responses; hub1 got ${hub1AfterDown} requests once down, hub2 served ${hub2Served} in all`, phases.after.bad === 0 && phases.after.good > 0 && hub1AfterDown === 0],
    [`agreement changes through the balancer: ${traffic.agreementChanges}`, traffic.agreementChanges > 0],
    [`the hub used HAProxy's X-Request-Id: ${requestId}`, requestId !== '' && !uuidShaped.test(requestId)],
  ];
  console.log('');
  console.log(`load balancer check: ${durationSeconds} s at ${ratePerSecond} req/s through HAProxy (${config}), 2 hubs, hub1 stopped at ${(stoppedAtMs / 1000).toFixed(1)} s`);
  for (const [what, ok] of checks) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  for (const [problem, count] of problems) console.log(`       ${count} x ${problem}`);
  const serverLine = (name: string) => {
    const s = statsAtEnd.get(name);
    return `${name} ${s?.status ?? '?'}: ${s?.sessions ?? 0} requests, ${s?.responses2xx ?? 0} 2xx, ${s?.responses5xx ?? 0} 5xx`;
  };
  console.log(`  HAProxy per server at the end (requests include connection attempts refused by the stopping hub1 and retried on hub2): ${serverLine('hub1')}; ${serverLine('hub2')}`);
  // HAProxy reports a state change twice (its own warning and the log line): show it once.
  const transitions = new Set(
    fs
      .readFileSync(haproxy.logFile, 'utf8')
      .split('\n')
      .filter((line) => / is (DOWN|UP)/.test(line))
      .map((line) => line.replace(/^\[WARNING\]\s+\(\d+\) : /, '')),
  );
  for (const line of transitions) console.log(`  haproxy log: ${line.trim()}`);
  const passed = checks.every(([, ok]) => ok);
  console.log(passed ? 'PASS' : 'FAIL');
  return passed;
}

let exiting = false;
async function stopAll(): Promise<void> {
  for (const stop of teardown.reverse()) await stop().catch((error: unknown) => log(`teardown: ${String(error)}`));
  teardown.length = 0;
}
process.once('SIGINT', () => {
  if (exiting) return;
  exiting = true;
  log('SIGINT: stopping HAProxy and the hubs, dropping the database');
  void stopAll().finally(() => process.exit(130));
});

let passed = false;
try {
  passed = await main();
} catch (error) {
  console.error(error);
} finally {
  if (!exiting) await stopAll();
}
process.exit(passed ? 0 : 1);
