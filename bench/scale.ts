/**
 * `npm run bench -- --scale`: the hub at scale.
 *
 * - RSS of a hub process holding 10,000 active agreements (plus the partnership's own) over
 *   1,000,000 records: at start, after its decision index is loaded, and after a load run of
 *   scenario (d);
 * - `subjectAccessReport` latency over 10,000,000 audit events, through the real hub over HTTP
 *   (one request at a time; each report is itself audited), for the hub operator (all events)
 *   and for an organisation's DPO (events where it is actor or owner). Target < 50 ms;
 * - `audit verify` speed: `verifyChain` over the whole trail, events/s (wall clock and per
 *   core of CPU used by Node).
 */
import fs from 'node:fs';
import path from 'node:path';
import { verifyChain } from '../src/audit/index.js';
import { systemClock } from '../src/clock.js';
import type { BenchDatabase } from './lib/bench-database.js';
import { generateAuditEvents } from './lib/generate-audit.js';
import { runLoad } from './lib/load.js';
import type { BenchOptions } from './lib/options.js';
import { log, progress } from './lib/progress.js';
import { requestMix, requestSource, scenarios } from './lib/scenarios.js';
import { startServer } from './lib/servers.js';
import { setUp } from './lib/setup.js';
import { mintTokens, type TokenPool } from './lib/token-pool.js';
import type { Identity } from './lib/partnership.js';

const hubId = 'accord-hub';
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

const reportQuery = `query Report($nhsNumber: NHSNumber!) { subjectAccessReport(nhsNumber: $nhsNumber) {
  seq at action actorOrg actorUser purpose caseRef ownerOrg outcome hash
  records { recordType recordId fields withheld agreements { id version payloadHash } } } }`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function reportLatencies(url: string, tokens: TokenPool, subjects: readonly string[], count: number) {
  const latencies: number[] = [];
  let events = 0;
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.next()}` },
      body: JSON.stringify({ query: reportQuery, variables: { nhsNumber: subjects[(i * 7919) % subjects.length] } }),
    });
    const body = (await response.json()) as { data?: { subjectAccessReport?: unknown[] }; errors?: unknown };
    latencies.push(performance.now() - started);
    if (response.status !== 200 || body.errors !== undefined) throw new Error(`subjectAccessReport failed: ${response.status} ${JSON.stringify(body.errors)}`);
    events += body.data?.subjectAccessReport?.length ?? 0;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return { requests: count, eventsPerReport: round(events / count), p50Ms: round(percentile(sorted, 50)), p95Ms: round(percentile(sorted, 95)), p99Ms: round(percentile(sorted, 99)), maxMs: round(sorted[sorted.length - 1] ?? Number.NaN) };
}

export async function scale(options: BenchOptions, onDatabase: (bench: BenchDatabase) => void): Promise<void> {
  const backgroundPerSubject = 10;
  const core = 10_000 + 2_000 * 50;
  const setup = await setUp({
    databaseUrl: options.databaseUrl,
    singleSubjects: 10_000,
    richSubjects: 2_000,
    backgroundSubjects: Math.max(0, Math.ceil((options.scaleRecords - core) / backgroundPerSubject)),
    backgroundPerSubject,
    fillerAgreements: options.fillerAgreements,
    onDatabase,
  });
  const subjects = [...setup.plan.single, ...setup.plan.rich, ...setup.plan.background];
  const generationStarted = performance.now();
  await generateAuditEvents(setup.bench.sql, options.scaleEvents, subjects, systemClock());
  const auditGenerationSeconds = (performance.now() - generationStarted) / 1000;
  const [{ bytes } = { bytes: 0 }] = await setup.bench.sql<{ bytes: number }[]>`select pg_total_relation_size('audit_events')::bigint as bytes`;
  log(`audit trail: ${options.scaleEvents.toLocaleString('en-GB')} events, ${mb(Number(bytes)).toLocaleString('en-GB')} MB with indexes, generated in ${auditGenerationSeconds.toFixed(0)} s`);

  const [{ agreements } = { agreements: 0 }] = await setup.bench.sql<{ agreements: number }[]>`select count(*)::int as agreements from agreements`;
  const hub = await startServer('accord', { databaseUrl: setup.bench.url });
  try {
    const atStart = await hub.stats();
    const scenario = scenarios.find((s) => s.id === 'd');
    if (scenario === undefined) throw new TypeError('scenario d missing');
    const seconds = options.warmupSeconds + options.durationSeconds;
    const readerTokens = await mintTokens(setup.partnership.reader, requestMix(scenario, Math.ceil(1_500 * seconds)).reads, { hubId, clock: systemClock });
    const source = (phase: string, stop: () => void) =>
      requestSource({ scenario, side: 'accord', readSubjects: setup.plan.rich, publishSubjects: setup.publishSubjects, runTag: `scale-${phase}`, readerTokens, onExhausted: stop });
    const warm = runLoad({ url: hub.url, connections: options.connections, durationSeconds: options.warmupSeconds, setupRequest: source('warm', () => warm.stop()) });
    await warm.result;
    const afterIndex = await hub.stats();
    const run = runLoad({ url: hub.url, connections: options.connections, durationSeconds: options.durationSeconds, setupRequest: source('run', () => run.stop()) });
    const load = await run.result;
    const afterLoad = await hub.stats();
    log(`hub RSS: ${mb(atStart.rssBytes)} MB at start, ${mb(afterIndex.rssBytes)} MB with the index loaded, ${mb(afterLoad.rssBytes)} MB after ${load.requests} requests`);

    const mint = (identity: Identity, n: number) => mintTokens(identity, n, { hubId, clock: systemClock });
    const reportCount = options.quick ? 50 : 300;
    const adminTokens = await mint(setup.partnership.hubAdmin, reportCount * 2 + 20);
    const dpoTokens = await mint(setup.partnership.dpo, reportCount * 2 + 20);
    await reportLatencies(hub.url, adminTokens, subjects, 20);
    const asHubAdmin = await reportLatencies(hub.url, adminTokens, subjects.slice(10_000), reportCount);
    const asDpo = await reportLatencies(hub.url, dpoTokens, subjects, reportCount);
    log(`subjectAccessReport: hub-admin p50 ${asHubAdmin.p50Ms} ms p99 ${asHubAdmin.p99Ms} ms; dpo p50 ${asDpo.p50Ms} ms p99 ${asDpo.p99Ms} ms`);

    const [{ head } = { head: 0 }] = await setup.bench.sql<{ head: number }[]>`select max(seq)::bigint as head from audit_events`;
    const shown = progress('audit verify', Number(head), 'events');
    const cpuBefore = process.cpuUsage();
    const verifyStarted = performance.now();
    const verified = await verifyChain(setup.bench.database.db, { onProgress: (p) => shown.update(p.checked) });
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    shown.finish(verified.checked);
    if (!verified.intact) throw new Error(`the generated chain does not verify: ${JSON.stringify(verified.firstBad)}`);
    const verify = {
      events: verified.checked,
      checkpointsChecked: verified.checkpointsChecked,
      seconds: Math.round(verifySeconds * 10) / 10,
      eventsPerSecond: Math.round(verified.checked / verifySeconds),
      eventsPerCpuSecond: Math.round(verified.checked / ((cpu.user + cpu.system) / 1e6)),
    };

    const result = {
      at: new Date().toISOString(),
      data: { records: setup.records, agreements, auditEvents: options.scaleEvents, auditTableMb: mb(Number(bytes)), auditGenerationSeconds: Math.round(auditGenerationSeconds) },
      rss: {
        atStartMb: mb(atStart.rssBytes),
        indexLoadedMb: mb(afterIndex.rssBytes),
        afterLoadMb: mb(afterLoad.rssBytes),
        heapUsedAfterLoadMb: mb(afterLoad.heapUsedBytes),
        load: { requests: load.requests, rps: Math.round(load.rps), p50Ms: load.p50Ms, p99Ms: load.p99Ms },
      },
      subjectAccessReport: { targetMs: 50, asHubAdmin, asDpo, met: asHubAdmin.p99Ms < 50 && asDpo.p99Ms < 50 },
      verify,
    };
    console.log(
      [
        '',
        `data: ${setup.records.toLocaleString('en-GB')} records, ${agreements.toLocaleString('en-GB')} agreements, ${options.scaleEvents.toLocaleString('en-GB')} audit events (${result.data.auditTableMb} MB)`,
        `hub RSS: ${result.rss.atStartMb} MB at start, ${result.rss.indexLoadedMb} MB with the decision index loaded, ${result.rss.afterLoadMb} MB after ${load.requests} requests of (d) at ${result.rss.load.rps} req/s (heap ${result.rss.heapUsedAfterLoadMb} MB)`,
        `subjectAccessReport (target < 50 ms), one at a time over HTTP, each audited:`,
        `  hub-admin: ${asHubAdmin.eventsPerReport} events/report, p50 ${asHubAdmin.p50Ms} ms, p95 ${asHubAdmin.p95Ms} ms, p99 ${asHubAdmin.p99Ms} ms, max ${asHubAdmin.maxMs} ms`,
        `  dpo:       ${asDpo.eventsPerReport} events/report, p50 ${asDpo.p50Ms} ms, p95 ${asDpo.p95Ms} ms, p99 ${asDpo.p99Ms} ms, max ${asDpo.maxMs} ms`,
        `  ${result.subjectAccessReport.met ? 'target met' : 'target NOT met'}`,
        `audit verify: ${verify.events.toLocaleString('en-GB')} events in ${verify.seconds} s = ${verify.eventsPerSecond.toLocaleString('en-GB')} events/s (${verify.eventsPerCpuSecond.toLocaleString('en-GB')} per CPU-second of Node)`,
      ].join('\n'),
    );
    const out = options.out ?? path.join('bench', 'results', 'scale.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`results written to ${out}`);
  } finally {
    await hub.stop();
  }
}
