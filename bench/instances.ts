/**
 * `npm run bench -- --instances [--scenario b]`: req/s of one read scenario with one hub process,
 * then with two on the same PostgreSQL database, autocannon's connections spread round-robin over
 * both (connection i goes to hub i mod 2, so the requests split evenly). Rounds alternate which
 * configuration goes first. The ratio is bounded by the machine: the load generator, every hub
 * and PostgreSQL share its cores, so the CPU each used is printed beside it.
 */
import os from 'node:os';
import { systemClock } from '../src/clock.js';
import type { BenchDatabase } from './lib/bench-database.js';
import { runLoad, type LoadResult } from './lib/load.js';
import type { BenchOptions } from './lib/options.js';
import { postgresCpuMicros } from './lib/pg-cpu.js';
import { log } from './lib/progress.js';
import { defaultResultsFile, writeResultKeys } from './lib/results-file.js';
import { requestMix, requestSource, scenarios, type Scenario } from './lib/scenarios.js';
import { startServer, type ServerHandle } from './lib/servers.js';
import { setUpComparison, type BenchSetup } from './lib/setup.js';
import { mintTokens } from './lib/token-pool.js';

const hubId = 'accord-hub';
const tokenMargin = 1.4;

interface InstancesRun {
  readonly round: number;
  readonly scenario: Scenario['id'];
  readonly instances: number;
  readonly result: LoadResult;
  /** Cores busy on average during the measured seconds. */
  readonly hubCores: number;
  readonly postgresCores: number | undefined;
  readonly loadGeneratorCores: number;
}

async function measure(setup: BenchSetup, hubs: readonly ServerHandle[], scenario: Scenario, round: number, options: BenchOptions, expectedRps: number): Promise<InstancesRun> {
  const seconds = options.warmupSeconds + options.durationSeconds;
  const mix = requestMix(scenario, Math.ceil(expectedRps * seconds * tokenMargin) + 1_000);
  const readerTokens = await mintTokens(setup.partnership.reader, mix.reads + 500, { hubId, clock: systemClock });
  const publisherTokens = mix.publishes > 0 ? await mintTokens(setup.partnership.publisher, mix.publishes + 500, { hubId, clock: systemClock }) : undefined;
  const urls = hubs.map((hub) => hub.url);
  const source = (phase: string, onExhausted: () => void) =>
    requestSource({
      scenario,
      side: 'accord',
      readSubjects: scenario.subjects === 'single' ? setup.plan.single : setup.plan.rich,
      publishSubjects: setup.publishSubjects,
      runTag: `inst-r${round}-${scenario.id}-${hubs.length}-${phase}`,
      readerTokens,
      ...(publisherTokens === undefined ? {} : { publisherTokens }),
      onExhausted,
    });
  const warm = runLoad({ url: urls, connections: options.connections, durationSeconds: options.warmupSeconds, setupRequest: source('warm', () => warm.stop()) });
  await warm.result;
  const hubCpu = async () => (await Promise.all(hubs.map((hub) => hub.stats()))).reduce((sum, stats) => sum + stats.cpuMicros, 0);
  const hubBefore = await hubCpu();
  const pgBefore = await postgresCpuMicros(setup.bench.sql);
  const generatorBefore = process.cpuUsage();
  const run = runLoad({ url: urls, connections: options.connections, durationSeconds: options.durationSeconds, setupRequest: source('run', () => run.stop()) });
  const result = await run.result;
  const generator = process.cpuUsage(generatorBefore);
  const pgAfter = await postgresCpuMicros(setup.bench.sql);
  const cores = (micros: number) => micros / 1e6 / result.seconds;
  return {
    round,
    scenario: scenario.id,
    instances: hubs.length,
    result,
    hubCores: cores((await hubCpu()) - hubBefore),
    postgresCores: pgBefore === undefined || pgAfter === undefined ? undefined : cores(pgAfter - pgBefore),
    loadGeneratorCores: cores(generator.user + generator.system),
  };
}

export async function instances(options: BenchOptions, onDatabase: (bench: BenchDatabase) => void): Promise<void> {
  const selected = scenarios.filter((s) => options.scenarios.includes(s.id));
  const loadBefore = os.loadavg();
  const setup = await setUpComparison(options, selected, onDatabase);
  const hubs: ServerHandle[] = [];
  try {
    for (let i = 0; i < 2; i += 1) hubs.push(await startServer('accord', { databaseUrl: setup.bench.url }));
    log(`hubs on ${hubs.map((h) => `${h.url} (pid ${h.pid})`).join(' and ')}, one PostgreSQL database ${setup.bench.name}`);
    const cpus = os.cpus().length;
    const runs: InstancesRun[] = [];
    const expected = new Map<string, number>();
    for (let round = 1; round <= options.rounds; round += 1) {
      for (const scenario of selected) {
        if (scenario.filler) await setup.filler?.enable();
        else await setup.filler?.disable();
        for (const count of round % 2 === 1 ? [1, 2] : [2, 1]) {
          const record = await measure(setup, hubs.slice(0, count), scenario, round, options, expected.get(scenario.id) ?? 1_500);
          expected.set(scenario.id, Math.max(expected.get(scenario.id) ?? 0, record.result.rps));
          runs.push(record);
          const r = record.result;
          log(
            `round ${round} (${scenario.id}) ${count} hub${count === 1 ? ' ' : 's'} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms` +
              `  cores busy: hubs ${record.hubCores.toFixed(2)}, PostgreSQL ${record.postgresCores?.toFixed(2) ?? '?'}, load generator ${record.loadGeneratorCores.toFixed(2)} (of ${cpus})` +
              (r.non2xx + r.errors > 0 ? `  !! ${r.non2xx} non-2xx, ${r.errors} errors` : '') +
              (r.exhausted ? '  !! token pool exhausted' : ''),
          );
        }
      }
    }
    await setup.filler?.disable();

    const rpsOf = (scenario: string, count: number) => {
      const of = runs.filter((r) => r.scenario === scenario && r.instances === count);
      return of.reduce((sum, r) => sum + r.result.requests, 0) / of.reduce((sum, r) => sum + r.result.seconds, 0);
    };
    const busyOf = (scenario: string, count: number) => {
      const of = runs.filter((r) => r.scenario === scenario && r.instances === count);
      const mean = (f: (r: InstancesRun) => number) => of.reduce((sum, r) => sum + f(r), 0) / of.length;
      return mean((r) => r.hubCores + (r.postgresCores ?? 0) + r.loadGeneratorCores);
    };
    const summary = selected.map((scenario) => {
      const one = rpsOf(scenario.id, 1);
      const two = rpsOf(scenario.id, 2);
      return { scenario: scenario.id, title: scenario.title, oneInstanceRps: one, twoInstanceRps: two, ratio: two / one, coresBusyOne: busyOf(scenario.id, 1), coresBusyTwo: busyOf(scenario.id, 2) };
    });
    const failures = runs.reduce((sum, r) => sum + r.result.non2xx + r.result.errors + (r.result.exhausted ? 1 : 0), 0);
    const bound =
      `this machine has ${cpus} core${cpus === 1 ? '' : 's'}, shared by the load generator, every hub process and PostgreSQL: ` +
      'the ratio is bounded by those cores, not by the hub (a second instance adds no core here). On hosts of their own, instances add what one instance gets, until PostgreSQL saturates.';
    console.log('');
    console.log(`${'scenario'.padEnd(52)} ${'1 hub req/s'.padStart(12)} ${'2 hubs req/s'.padStart(13)} ${'ratio'.padStart(6)} ${'cores busy 1 / 2'.padStart(17)}`);
    for (const s of summary) {
      console.log(
        `${`(${s.scenario}) ${s.title}`.slice(0, 52).padEnd(52)} ${s.oneInstanceRps.toFixed(0).padStart(12)} ${s.twoInstanceRps.toFixed(0).padStart(13)} ${s.ratio.toFixed(2).padStart(6)} ${`${s.coresBusyOne.toFixed(2)} / ${s.coresBusyTwo.toFixed(2)}`.padStart(17)}`,
      );
    }
    const loadAverage = (l: readonly number[]) => l.map((v) => v.toFixed(1)).join(' ');
    console.log(`failures: ${failures}; machine load average ${loadAverage(loadBefore)} before, ${loadAverage(os.loadavg())} after (other work on the machine counts too)`);
    console.log(`note: ${bound}`);

    const out = options.out ?? defaultResultsFile;
    writeResultKeys(out, {
      instances: {
        at: new Date().toISOString(),
        command: `npm run bench -- --instances --scenario ${options.scenarios.join(',')}`,
        machine: { cpus, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))), loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))) },
        settings: { rounds: options.rounds, durationSeconds: options.durationSeconds, warmupSeconds: options.warmupSeconds, connections: options.connections, spread: 'autocannon connections round-robin over the hubs' },
        summary,
        failures,
        note: bound,
        runs,
      },
    });
    log(`instance figures written to ${out} (key "instances")`);
  } finally {
    await Promise.allSettled(hubs.map((hub) => hub.stop()));
  }
}
