/**
 * `npm run bench -- --profile`: where the hub's time goes. For scenarios a and b (or those
 * given with --scenario), each side runs alone in a fresh process with
 * every SQL statement counted (the `onQuery` hook of openDatabase); the load generator drives it
 * for --duration seconds after a warm-up. Prints, per scenario and side: SQL statements per
 * request, CPU per request, self time by package/module and by function, and the inclusive time
 * of the hub's request stages. The profiler runs inside the server over the measured window only
 * (node:inspector, 250 µs sampling). Profiles are kept in bench/results/profiles/ (open them in
 * Chrome DevTools or speedscope).
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock } from '../src/clock.js';
import type { BenchDatabase } from './lib/bench-database.js';
import { summariseProfile, type ProfileSummary } from './lib/cpu-profile.js';
import { runLoad } from './lib/load.js';
import type { BenchOptions } from './lib/options.js';
import { log } from './lib/progress.js';
import { requestMix, requestSource, scenarios, type Side } from './lib/scenarios.js';
import { startServer } from './lib/servers.js';
import { setUpComparison } from './lib/setup.js';
import { mintTokens } from './lib/token-pool.js';
import { postgresCpuMicros } from './lib/pg-cpu.js';

const hubId = 'accord-hub';

/** The hub's request stages, reported as inclusive time (self time of everything they call). */
const stages = [
  'verifyToken',
  'jwtVerify',
  'claim',
  'createRequestContext',
  'forCaller',
  'visibilitySql',
  'decide',
  'visibleRecords',
  'willSendResponse',
  'releaseEvents',
  'append',
  'writeBatch',
  'writeChain',
  'hashEvent',
  'requestLogLine',
  'executeHTTPGraphQLRequest',
  'execute',
  'executeFields',
  'completeValue',
  'validate',
  'parse',
  'stringify',
  'load',
];

interface ProfiledRun {
  readonly scenario: string;
  readonly side: Side;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly queriesPerRequest: number;
  /** Statements per request by their first words, most frequent first. */
  readonly statementsPerRequest: readonly { readonly statement: string; readonly perRequest: number }[];
  readonly postgresCpuMicrosPerRequest: number | undefined;
  readonly cpuMicrosPerRequest: number;
  readonly profileFile: string;
  readonly profile: ProfileSummary;
}

export async function profile(options: BenchOptions, onDatabase: (bench: BenchDatabase) => void): Promise<void> {
  const selected = scenarios.filter((s) => (options.scenarios.length === 4 ? ['a', 'b'] : options.scenarios).includes(s.id));
  const setup = await setUpComparison(options, selected, onDatabase);
  const profileDir = path.resolve('bench', 'results', 'profiles');
  fs.mkdirSync(profileDir, { recursive: true });
  const results: ProfiledRun[] = [];

  for (const scenario of selected) {
    if (scenario.filler) await setup.filler?.enable();
    else await setup.filler?.disable();
    for (const side of ['baseline', 'accord'] as const) {
      const profileFile = path.join(profileDir, `${scenario.id}-${side}.cpuprofile`);
      const server = await startServer(side, { databaseUrl: setup.bench.url, countQueries: true });
      const seconds = options.warmupSeconds + options.durationSeconds;
      const mix = requestMix(scenario, Math.ceil(4_000 * seconds));
      const readerTokens = side === 'accord' ? await mintTokens(setup.partnership.reader, mix.reads + 500, { hubId, clock: systemClock }) : undefined;
      const publisherTokens =
        side === 'accord' && mix.publishes > 0 ? await mintTokens(setup.partnership.publisher, mix.publishes + 500, { hubId, clock: systemClock }) : undefined;
      const source = (phase: string, stop: () => void) =>
        requestSource({
          scenario,
          side,
          readSubjects: scenario.subjects === 'single' ? setup.plan.single : setup.plan.rich,
          publishSubjects: setup.publishSubjects,
          runTag: `profile-${scenario.id}-${side}-${phase}`,
          ...(readerTokens === undefined ? {} : { readerTokens }),
          ...(publisherTokens === undefined ? {} : { publisherTokens }),
          onExhausted: stop,
        });
      const warm = runLoad({ url: server.url, connections: options.connections, durationSeconds: options.warmupSeconds, setupRequest: source('warm', () => warm.stop()) });
      await warm.result;
      await server.startProfile();
      const before = await server.stats();
      const pgBefore = await postgresCpuMicros(setup.bench.sql);
      const run = runLoad({ url: server.url, connections: options.connections, durationSeconds: options.durationSeconds, setupRequest: source('run', () => run.stop()) });
      const result = await run.result;
      const after = await server.stats();
      const pgAfter = await postgresCpuMicros(setup.bench.sql);
      await server.stopProfile(profileFile);
      await server.stop();
      const perRequest = (n: number) => n / Math.max(1, result.requests);
      const entry: ProfiledRun = {
        scenario: scenario.id,
        side,
        requests: result.requests,
        rps: result.rps,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        queriesPerRequest: perRequest(after.queries - before.queries),
        statementsPerRequest: Object.entries(after.statements)
          .map(([statement, count]) => ({ statement, perRequest: perRequest(count - (before.statements[statement] ?? 0)) }))
          .filter((s) => s.perRequest >= 0.001)
          .sort((a, b) => b.perRequest - a.perRequest),
        postgresCpuMicrosPerRequest: pgBefore === undefined || pgAfter === undefined ? undefined : perRequest(pgAfter - pgBefore),
        cpuMicrosPerRequest: perRequest(after.cpuMicros - before.cpuMicros),
        profileFile: path.relative(process.cwd(), profileFile),
        // The profile covers the measured window only (started and stopped over IPC).
        profile: summariseProfile(profileFile, stages),
      };
      results.push(entry);
      console.log(formatProfile(entry));
    }
  }
  await setup.filler?.disable();
  const out = options.out ?? path.join('bench', 'results', 'profile.json');
  fs.writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), settings: { durationSeconds: options.durationSeconds, connections: options.connections }, results }, null, 2)}\n`);
  log(`profile summary written to ${out}; raw profiles in ${path.relative(process.cwd(), profileDir)}`);
}

function formatProfile(run: ProfiledRun): string {
  const lines = [
    '',
    `== (${run.scenario}) ${run.side}: ${run.rps.toFixed(0)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms; ` +
      `${run.queriesPerRequest.toFixed(2)} SQL statements/request; CPU/request: node ${run.cpuMicrosPerRequest.toFixed(0)} µs, ` +
      `PostgreSQL ${run.postgresCpuMicrosPerRequest?.toFixed(0) ?? '?'} µs ` +
      `(busy ${run.profile.busyMs} of ${run.profile.totalMs} ms profiled) — ${run.profileFile}`,
    'SQL statements per request (drizzle-level; BEGIN/COMMIT not counted):',
    ...run.statementsPerRequest.slice(0, 10).map((s) => `  ${s.perRequest.toFixed(3).padStart(7)}  ${s.statement}`),
    'self time by package / module:',
    ...run.profile.byPackage.slice(0, 15).map((s) => `  ${s.percent.toFixed(1).padStart(5)}%  ${s.name}`),
    'self time by function:',
    ...run.profile.byFunction.slice(0, 20).map((s) => `  ${s.percent.toFixed(1).padStart(5)}%  ${s.name}`),
  ];
  if (run.side === 'accord') {
    lines.push('inclusive time of request stages (sync parts, % of busy time):');
    lines.push(...run.profile.inclusive.map((s) => `  ${s.percent.toFixed(1).padStart(5)}%  ${s.name}`));
  }
  return lines.join('\n');
}
