/**
 * `npm run bench`: the hub against the bare Apollo baseline and against the hand-rolled peer
 * (bare Apollo + jose JWT verification + one audit INSERT per request), same machine, same data,
 * same run, in alternation (see docs/performance.md for the method).
 */
import os from 'node:os';
import { systemClock } from '../src/clock.js';
import { runLoad, type LoadResult } from './lib/load.js';
import type { BenchOptions } from './lib/options.js';
import { log } from './lib/progress.js';
import { formatReport, summarise, type RunRecord } from './lib/report.js';
import { requestMix, requestSource, scenarios, type Scenario, type Side } from './lib/scenarios.js';
import { startServer, type ServerHandle } from './lib/servers.js';
import { setUpComparison, type BenchSetup } from './lib/setup.js';
import { benchHubId, mintTokens, type TokenPool } from './lib/token-pool.js';
import { checkSameAnswers } from './lib/check-answers.js';
import type { BenchDatabase } from './lib/bench-database.js';
import { postgresCpuMicros } from './lib/pg-cpu.js';
import { defaultResultsFile, writeResultKeys } from './lib/results-file.js';
import { peerAuditTable } from './baseline/baseline-server.js';

const hubId = benchHubId;
/** Token pools are sized for the expected rate times this margin. */
const tokenMargin = 1.4;

export async function compare(options: BenchOptions, onDatabase: (bench: BenchDatabase) => void): Promise<void> {
  const selected = scenarios.filter((s) => options.scenarios.includes(s.id));
  const loadBefore = os.loadavg();
  const setup = await setUpComparison(options, selected, onDatabase);
  await setup.filler?.disable();

  const servers: Record<string, ServerHandle> & { baseline: ServerHandle; accord: ServerHandle; peer: ServerHandle } = {
    baseline: await startServer('baseline', { databaseUrl: setup.bench.url }),
    accord: await startServer('accord', { databaseUrl: setup.bench.url }),
    peer: await startServer('peer', { databaseUrl: setup.bench.url }),
  };
  for (const ablations of options.ablations) {
    servers[`accord-${ablations.join('+')}`] = await startServer('accord', { databaseUrl: setup.bench.url, ablations });
  }
  const sides = Object.keys(servers) as RunRecord['side'][];
  log(
    `baseline on ${servers.baseline.url} (pid ${servers.baseline.pid}), hub on ${servers.accord.url} (pid ${servers.accord.pid}), ` +
      `peer on ${servers.peer.url} (pid ${servers.peer.pid})`,
  );
  try {
    await checkSameAnswers(setup, servers, selected, { hubId });
    const runs: RunRecord[] = [];
    /** Last measured req/s per scenario, to size token pools. */
    const expected = new Map<string, number>();
    for (let round = 1; round <= options.rounds; round += 1) {
      for (const scenario of selected) {
        if (scenario.filler) await setup.filler?.enable();
        else await setup.filler?.disable();
        // Alternate which side goes first, so a drift in the machine's load favours neither.
        const order = round % 2 === 1 ? sides : [...sides].reverse();
        for (const side of order) {
          const server = servers[side] as ServerHandle;
          const record = await measure({ setup, server, scenario, side, round, options, expectedRps: expected.get(scenario.id) ?? 3_000 });
          expected.set(scenario.id, Math.max(expected.get(scenario.id) ?? 0, record.result.rps));
          runs.push(record);
          log(
            `round ${round} (${scenario.id}) ${side.padEnd(8)} ${record.result.rps.toFixed(0).padStart(6)} req/s  p50 ${record.result.p50Ms} ms  p99 ${record.result.p99Ms} ms` +
              `  CPU/req: node ${record.cpuMicrosPerRequest.toFixed(0)} µs, PostgreSQL ${record.postgresCpuMicrosPerRequest?.toFixed(0) ?? '?'} µs` +
              (side === 'baseline' ? '' : `  ${record.auditEventsPerRequest.toFixed(1)} ${side === 'peer' ? `${peerAuditTable} rows` : 'audit events'}/req`) +
              (record.result.non2xx + record.result.errors > 0 ? `  !! ${record.result.non2xx} non-2xx, ${record.result.errors} errors` : '') +
              (record.result.exhausted ? '  !! token pool exhausted' : ''),
          );
        }
      }
    }
    await setup.filler?.disable();

    const summary = summarise(runs, selected);
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      postgres: (await setup.bench.sql`select version()`)[0]?.version as string,
      loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
      loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
    };
    const settings = {
      rounds: options.rounds,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
      records: setup.records,
      fillerAgreements: setup.filler?.count ?? 0,
    };
    console.log(formatReport(summary, { machine, settings }));
    const out = options.out ?? defaultResultsFile;
    writeResultKeys(out, { at: new Date().toISOString(), machine, settings, summary, runs });
    log(`results written to ${out}`);
  } finally {
    await Promise.allSettled(Object.values(servers).map((server) => server.stop()));
  }
}

interface MeasureOptions {
  readonly setup: BenchSetup;
  readonly server: ServerHandle;
  readonly scenario: Scenario;
  readonly side: RunRecord['side'];
  readonly round: number;
  readonly options: BenchOptions;
  readonly expectedRps: number;
}

/** The hub's audit head, or the peer's last audit row (the peer creates its table when it starts). */
async function auditHead(setup: BenchSetup, side: Side): Promise<number> {
  if (side === 'baseline') return 0;
  const [row] =
    side === 'peer'
      ? await setup.bench.sql`select coalesce(max(id), 0)::bigint as seq from ${setup.bench.sql(peerAuditTable)}`
      : await setup.bench.sql`select coalesce(max(seq), 0)::bigint as seq from audit_events`;
  return Number(row?.seq ?? 0);
}

async function measure(m: MeasureOptions): Promise<RunRecord> {
  const { setup, scenario, side, options } = m;
  const seconds = options.warmupSeconds + options.durationSeconds;
  let readerTokens: TokenPool | undefined;
  let publisherTokens: TokenPool | undefined;
  // Ablated hubs are hubs; the peer takes the same tokens as the hub (it just never refuses a replay).
  const kind: Side = side === 'baseline' || side === 'peer' ? side : 'accord';
  if (kind !== 'baseline') {
    const total = Math.ceil(m.expectedRps * seconds * tokenMargin) + 1_000;
    const mix = requestMix(scenario, total);
    readerTokens = await mintTokens(setup.partnership.reader, mix.reads + 500, { hubId, clock: systemClock });
    if (mix.publishes > 0) publisherTokens = await mintTokens(setup.partnership.publisher, mix.publishes + 500, { hubId, clock: systemClock });
  }
  const readSubjects = scenario.subjects === 'single' ? setup.plan.single : setup.plan.rich;
  const runTag = `r${m.round}-${scenario.id}-${side}`;
  const source = (phase: string, onExhausted: () => void) =>
    requestSource({
      scenario,
      side: kind,
      readSubjects,
      publishSubjects: setup.publishSubjects,
      runTag: `${runTag}-${phase}`,
      ...(readerTokens === undefined ? {} : { readerTokens }),
      ...(publisherTokens === undefined ? {} : { publisherTokens }),
      onExhausted,
    });

  const warm = runLoad({ url: m.server.url, connections: options.connections, durationSeconds: options.warmupSeconds, setupRequest: source('warm', () => warm.stop()) });
  await warm.result;
  const statsBefore = await m.server.stats();
  const auditBefore = await auditHead(setup, kind);
  const pgBefore = await postgresCpuMicros(setup.bench.sql);
  const loadGeneratorBefore = process.cpuUsage();
  const run = runLoad({ url: m.server.url, connections: options.connections, durationSeconds: options.durationSeconds, setupRequest: source('run', () => run.stop()) });
  const result: LoadResult = await run.result;
  const loadGenerator = process.cpuUsage(loadGeneratorBefore);
  const statsAfter = await m.server.stats();
  const pgAfter = await postgresCpuMicros(setup.bench.sql);
  const auditAfter = await auditHead(setup, kind);
  const perRequest = (micros: number) => micros / Math.max(1, result.requests);
  return {
    round: m.round,
    scenario: scenario.id,
    side,
    result,
    cpuMicrosPerRequest: perRequest(statsAfter.cpuMicros - statsBefore.cpuMicros),
    postgresCpuMicrosPerRequest: pgBefore === undefined || pgAfter === undefined ? undefined : perRequest(pgAfter - pgBefore),
    loadGeneratorCpuMicrosPerRequest: perRequest(loadGenerator.user + loadGenerator.system),
    rssBytes: statsAfter.rssBytes,
    auditEventsPerRequest: (auditAfter - auditBefore) / Math.max(1, result.requests),
    tokensMinted: (readerTokens?.size ?? 0) + (publisherTokens?.size ?? 0),
  };
}
