/**
 * `npm run bench -- --soak SECONDS`: one hub process on a fresh bench database under a steady,
 * bounded mixed load (subject reads, 15% publishes, an agreement submitted or revoked every 20 s)
 * for SECONDS. Every 30 s a line: the hub's RSS, heap and event-loop delay, the window's req/s,
 * request p99 and unexpected responses. After the warm-up (2 minutes, less for short runs), the
 * drift: RSS and heap slopes (least squares, MB/min) and the last minute's request p99 against
 * the first, each against its target. See docs/performance.md.
 */
import os from 'node:os';
import { systemClock } from '../src/clock.js';
import type { BenchDatabase } from './lib/bench-database.js';
import { fetchMetrics, readRssBytes } from './lib/hub-gauges.js';
import { mixedTraffic } from './lib/mixed-traffic.js';
import type { BenchOptions } from './lib/options.js';
import { runPacedLoad, type PacedResult } from './lib/paced-load.js';
import { log } from './lib/progress.js';
import { defaultResultsFile, writeResultKeys } from './lib/results-file.js';
import { startServer, type ServerHandle } from './lib/servers.js';
import { setUpComparison } from './lib/setup.js';
import { percentile, slope, soakWindows } from './lib/soak-figures.js';
import { createTokenSigner } from './lib/token-pool.js';

const hubId = 'accord-hub';
const sampleEverySeconds = 5;
const lineEverySeconds = 30;
const publishPercent = 15;
const agreementChangeEverySeconds = 20;
const targets = { rssSlopeMbPerMinute: 1, p99Ratio: 1.2, unexpectedErrors: 0 } as const;
/** The gauges the hub's /metrics may expose; read when present, else the bench server process answers over IPC. */
const gauge = {
  rss: 'process_resident_memory_bytes',
  heap: 'nodejs_heap_used_bytes',
  eventLoopP99: 'nodejs_eventloop_delay_p99_seconds',
} as const;

interface Sample {
  readonly elapsedSeconds: number;
  readonly rssMb: number;
  readonly heapMb: number;
}

interface Line {
  readonly elapsedSeconds: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly eventLoopDelayP99Ms: number;
  readonly rps: number;
  readonly p99Ms: number;
  readonly unexpectedErrors: number;
}

const mb = (bytes: number) => bytes / 2 ** 20;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** Memory figures of the hub process: /proc for RSS, /metrics when it has the gauges, else IPC. */
async function memoryOf(server: ServerHandle, metrics: ReadonlyMap<string, number>): Promise<{ rssBytes: number; heapBytes: number; heapSource: string }> {
  const fromProc = readRssBytes(server.pid);
  const fromMetrics = { rss: metrics.get(gauge.rss), heap: metrics.get(gauge.heap) };
  const needIpc = fromMetrics.heap === undefined || (fromProc === undefined && fromMetrics.rss === undefined);
  const ipc = needIpc ? await server.stats() : undefined;
  return {
    rssBytes: fromProc ?? fromMetrics.rss ?? ipc?.rssBytes ?? Number.NaN,
    heapBytes: fromMetrics.heap ?? ipc?.heapUsedBytes ?? Number.NaN,
    heapSource: fromMetrics.heap === undefined ? 'hub process over IPC' : `/metrics ${gauge.heap}`,
  };
}

export async function soak(options: BenchOptions, onDatabase: (bench: BenchDatabase) => void): Promise<void> {
  const seconds = options.soakSeconds;
  const windows = soakWindows(seconds);
  if (windows.windowSeconds < 10) throw new Error(`--soak ${seconds} is too short to measure a drift: give at least 30 seconds`);
  const loadBefore = os.loadavg();
  const setup = await setUpComparison(options, [], onDatabase);
  const server = await startServer('accord', { databaseUrl: setup.bench.url });
  try {
    log(`hub on ${server.url} (pid ${server.pid}); soak of ${seconds} s at ${options.soakRate} req/s over ${options.connections} connections, warm-up ${fixed(windows.warmupSeconds, 0)} s`);
    const signer = (identity: Parameters<typeof createTokenSigner>[0]) => createTokenSigner(identity, { hubId, clock: systemClock });
    const traffic = mixedTraffic({
      singleSubjects: setup.plan.single,
      richSubjects: setup.plan.rich,
      publishSubjects: setup.publishSubjects,
      publishPercent,
      agreementChangeEvery: Math.max(1, Math.round(options.soakRate * agreementChangeEverySeconds)),
      runTag: `soak-${Date.now().toString(36)}`,
      reader: await signer(setup.partnership.reader),
      publisher: await signer(setup.partnership.publisher),
      admin: await signer(setup.partnership.hubAdmin),
      keys: setup.partnership.keys,
      clock: systemClock,
    });

    // Responses by the second they ended in: bounded by rate × seconds.
    const perSecond = Array.from({ length: seconds + 1 }, () => ({ latencies: [] as number[], unexpected: 0 }));
    const problems = new Map<string, number>();
    const byKind = new Map<string, number>();
    const onResult = (result: PacedResult) => {
      const slot = perSecond[Math.min(seconds, Math.floor(result.endedMs / 1000))] as (typeof perSecond)[number];
      slot.latencies.push(result.latencyMs);
      byKind.set(result.kind, (byKind.get(result.kind) ?? 0) + 1);
      if (result.problem !== undefined) {
        slot.unexpected += 1;
        const key = `${result.kind}: ${result.problem}`;
        problems.set(key, (problems.get(key) ?? 0) + 1);
      }
    };
    const between = (from: number, to: number) => perSecond.slice(Math.floor(from), Math.ceil(to));

    const started = performance.now();
    const samples: Sample[] = [];
    const lines: Line[] = [];
    let heapSource = '';
    let eventLoopSource = '';
    const header = `${'elapsed'.padStart(8)} ${'RSS MB'.padStart(8)} ${'heap MB'.padStart(8)} ${'loop p99 ms'.padStart(12)} ${'req/s'.padStart(7)} ${'p99 ms'.padStart(8)} ${'unexpected'.padStart(10)}`;
    async function sampler(): Promise<void> {
      await server.eventLoopDelay();
      for (let i = 1; i * sampleEverySeconds <= seconds; i += 1) {
        const elapsedSeconds = i * sampleEverySeconds;
        await sleep(Math.max(0, started + elapsedSeconds * 1000 - performance.now()));
        const metrics = await fetchMetrics(server.url);
        const memory = await memoryOf(server, metrics);
        heapSource = memory.heapSource;
        samples.push({ elapsedSeconds, rssMb: mb(memory.rssBytes), heapMb: mb(memory.heapBytes) });
        if (elapsedSeconds % lineEverySeconds !== 0) continue;
        const fromMetrics = metrics.get(gauge.eventLoopP99);
        const eventLoopP99Ms = fromMetrics === undefined ? (await server.eventLoopDelay()).p99Ms : fromMetrics * 1000;
        eventLoopSource = fromMetrics === undefined ? 'hub process over IPC (monitorEventLoopDelay, per window)' : `/metrics ${gauge.eventLoopP99}`;
        const window = between(elapsedSeconds - lineEverySeconds, elapsedSeconds);
        const latencies = window.flatMap((s) => s.latencies);
        const line: Line = {
          elapsedSeconds,
          rssMb: mb(memory.rssBytes),
          heapMb: mb(memory.heapBytes),
          eventLoopDelayP99Ms: eventLoopP99Ms,
          rps: latencies.length / lineEverySeconds,
          p99Ms: percentile(latencies, 99),
          unexpectedErrors: window.reduce((sum, s) => sum + s.unexpected, 0),
        };
        if (lines.length === 0) console.log(header);
        lines.push(line);
        console.log(
          `${`${elapsedSeconds} s`.padStart(8)} ${fixed(line.rssMb, 1).padStart(8)} ${fixed(line.heapMb, 1).padStart(8)} ${fixed(line.eventLoopDelayP99Ms, 1).padStart(12)} ` +
            `${fixed(line.rps, 1).padStart(7)} ${fixed(line.p99Ms, 1).padStart(8)} ${String(line.unexpectedErrors).padStart(10)}`,
        );
      }
    }

    const [sent] = await Promise.all([
      runPacedLoad({ url: `${server.url}/graphql`, ratePerSecond: options.soakRate, concurrency: options.connections, durationSeconds: seconds, nextRequest: traffic.nextRequest, onResult }),
      sampler(),
    ]);

    const afterWarmup = samples.filter((s) => s.elapsedSeconds >= windows.warmupSeconds);
    const rssSlope = slope(afterWarmup.map((s) => ({ x: s.elapsedSeconds / 60, y: s.rssMb })));
    const heapSlope = slope(afterWarmup.map((s) => ({ x: s.elapsedSeconds / 60, y: s.heapMb })));
    const firstP99 = percentile(between(...windows.first).flatMap((s) => s.latencies), 99);
    const lastP99 = percentile(between(...windows.last).flatMap((s) => s.latencies), 99);
    const p99Ratio = lastP99 / firstP99;
    const unexpected = [...problems.values()].reduce((a, b) => a + b, 0);
    const met = {
      rssSlope: rssSlope < targets.rssSlopeMbPerMinute,
      p99Ratio: p99Ratio <= targets.p99Ratio,
      unexpectedErrors: unexpected <= targets.unexpectedErrors,
    };
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const window = `${fixed(windows.windowSeconds, 0)} s`;
    console.log('');
    console.log(`after the ${fixed(windows.warmupSeconds, 0)} s warm-up (${afterWarmup.length} samples, one every ${sampleEverySeconds} s):`);
    console.log(`  RSS slope        ${fixed(rssSlope, 2).padStart(7)} MB/min   target < ${targets.rssSlopeMbPerMinute}: ${verdict(met.rssSlope)}`);
    console.log(`  heap slope       ${fixed(heapSlope, 2).padStart(7)} MB/min   (no target: the RSS slope is the one that matters; heap shows where growth is)`);
    console.log(
      `  request p99      ${fixed(lastP99, 1)} ms (last ${window}) / ${fixed(firstP99, 1)} ms (first ${window} after warm-up) = ${fixed(p99Ratio, 2)}   target <= ${targets.p99Ratio}: ${verdict(met.p99Ratio)}`,
    );
    console.log(`  unexpected       ${unexpected} of ${sent} responses (anything but a 200 with data and no errors)   target ${targets.unexpectedErrors}: ${verdict(met.unexpectedErrors)}`);
    for (const [problem, count] of problems) console.log(`    ${count} x ${problem}`);
    console.log(`  requests by kind ${[...byKind].map(([kind, count]) => `${kind} ${count}`).join(', ')}; agreement changes applied: ${traffic.agreementChanges}`);
    const loadAverage = (l: readonly number[]) => l.map((v) => v.toFixed(1)).join(' ');
    console.log(`  machine (${os.cpus().length} cores, shared): load average ${loadAverage(loadBefore)} before, ${loadAverage(os.loadavg())} after`);
    console.log(`  heap from ${heapSource}; event-loop delay from ${eventLoopSource}; RSS from /proc/${server.pid}/status`);

    const out = options.out ?? defaultResultsFile;
    writeResultKeys(out, {
      soak: {
        at: new Date().toISOString(),
        command: `npm run bench -- --soak ${seconds}${options.soakRate === 40 ? '' : ` --rate ${options.soakRate}`}`,
        machine: { cpus: os.cpus().length, node: process.version, loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))), loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))) },
        settings: { seconds, ratePerSecond: options.soakRate, connections: options.connections, publishPercent, agreementChangeEverySeconds, ...windows, records: setup.records },
        lines,
        samples,
        figures: {
          requests: sent,
          byKind: Object.fromEntries(byKind),
          agreementChanges: traffic.agreementChanges,
          rssSlopeMbPerMinute: rssSlope,
          heapSlopeMbPerMinute: heapSlope,
          firstP99Ms: firstP99,
          lastP99Ms: lastP99,
          p99Ratio,
          unexpectedErrors: unexpected,
          problems: Object.fromEntries(problems),
        },
        targets,
        met,
        allMet: met.rssSlope && met.p99Ratio && met.unexpectedErrors,
        sources: { rss: `/proc/<pid>/status VmRSS`, heap: heapSource, eventLoopDelay: eventLoopSource },
      },
    });
    log(`soak figures written to ${out} (key "soak")`);
  } finally {
    await server.stop();
  }
}
