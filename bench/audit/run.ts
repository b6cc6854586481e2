/**
 * Audit trail benchmark (not part of `npm test`): `npx tsx bench/audit/run.ts [options]`
 *
 * Creates its own database on the server of DATABASE_URL, drops it at the end, and prints:
 * - sustained events/s written through the real group-committing writer by concurrent producers
 *   (each producer appends one request's events at a time and waits for the commit, like the
 *   hub); the events are of the current shape (CONTRACT §7), each listing --records-per-event
 *   records (default 1: single-record events);
 * - events/s recomputed by `verifyChain` over that chain: wall clock, and per core of CPU time
 *   used by Node (the target: 250,000 single-record events/s per core), with the CPU
 *   PostgreSQL spent serving the rows beside it.
 *
 * The figures go to bench/results/latest.json under the key "audit" (the other keys are kept).
 */
import os from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createAuditWriter, verifyChain, type AuditEventInput, type AuditRecordEntry } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/index.js';
import { defaultDatabaseUrl } from '../lib/bench-database.js';
import { generateAuditEvents } from '../lib/generate-audit.js';
import { postgresCpuMicros } from '../lib/pg-cpu.js';
import { log, progress } from '../lib/progress.js';
import { defaultResultsFile, writeResultKeys } from '../lib/results-file.js';

const usage = `npx tsx bench/audit/run.ts [options]

  --events N               events in the chain (default 300000)
  --producers N            concurrent producers writing through the writer (default 64)
  --events-per-request N   events each producer appends at a time (default 10)
  --records-per-event N    records each READ event lists (default 1: single-record events)
  --generate               write the chain with COPY (bench/lib/generate-audit.ts) instead of
                           through the writer: no write figure, much faster for large chains
  --legacy N               with --generate: the first N events in the earlier one-record shape
                           (records NULL, hashed with the 21-key object), as after an upgrade
  --verify-runs N          verifications of the whole chain (default 3): median and best shown
  --page-size N            verifyChain pageSize (default: verifyChain's)
  --out FILE               results JSON (default ${defaultResultsFile}), key "audit"
  --database-url URL       server to create the bench database on
                           (default: DATABASE_URL, else ${defaultDatabaseUrl})
  --help                   this text

Environment (older spelling, still read): BENCH_EVENTS, BENCH_PRODUCERS, BENCH_EVENTS_PER_REQUEST.
`;

const verifyTarget = 250_000;
const writeTarget = 10_000;

const { values: args } = parseArgs({
  options: {
    events: { type: 'string' },
    producers: { type: 'string' },
    'events-per-request': { type: 'string' },
    'records-per-event': { type: 'string' },
    generate: { type: 'boolean', default: false },
    legacy: { type: 'string' },
    'verify-runs': { type: 'string' },
    'page-size': { type: 'string' },
    out: { type: 'string' },
    'database-url': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (args.help) {
  process.stdout.write(usage);
  process.exit(0);
}

function count(value: string | undefined, fallback: number, name: string, min = 1): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`${name} must be an integer >= ${min}\n\n${usage}`);
    process.exit(2);
  }
  return n;
}

const totalEvents = count(args.events ?? process.env.BENCH_EVENTS, 300_000, '--events');
const producers = count(args.producers ?? process.env.BENCH_PRODUCERS, 64, '--producers');
const perRequest = count(args['events-per-request'] ?? process.env.BENCH_EVENTS_PER_REQUEST, 10, '--events-per-request');
const recordsPerEvent = count(args['records-per-event'], 1, '--records-per-event');
const legacyEvents = count(args.legacy, 0, '--legacy', 0);
const verifyRuns = count(args['verify-runs'], 3, '--verify-runs');
const pageSize = args['page-size'] === undefined ? undefined : count(args['page-size'], 0, '--page-size');
const generate = args.generate || legacyEvents > 0;
const base = args['database-url'] ?? (process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '' ? process.env.DATABASE_URL : defaultDatabaseUrl);
const out = args.out ?? defaultResultsFile;

function urlFor(database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

const agreements = [{ id: 'triborough-mash-children', version: 3, payloadHash: 'a3f1'.repeat(16) }];
const fields = ['dateOfBirth', 'familyName', 'givenName', 'postcode'];

/** One request's events: one per subject (a disclosure), each listing `recordsPerEvent` records. */
function requestEvents(requestId: string, n: number): AuditEventInput[] {
  const events: AuditEventInput[] = [];
  for (let i = 0; i < n; i += 1) {
    const records: AuditRecordEntry[] = Array.from({ length: recordsPerEvent }, () => ({
      recordType: 'Demographics',
      recordId: randomUUID(),
      fields,
      withheld: [],
      agreements,
    }));
    events.push({
      requestId,
      actorOrg: 'westminster',
      actorUser: 'jane.smith@westminster.gov.uk',
      actorRoles: ['social-worker'],
      purpose: 'safeguarding-children',
      caseRef: 'WCC-2026-00042',
      action: 'READ',
      ownerOrg: 'kensington-chelsea',
      nhsNumber: String(9_000_000_000 + Math.floor(Math.random() * 999_999_999)),
      records,
      outcome: 'SUCCESS',
      operationName: 'SubjectView',
      queryHash: `hmac-sha256:${'b7e2'.repeat(16)}`,
      sensitivity: 'personal',
    });
  }
  return events;
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-GB');

const name = `accord_bench_audit_${randomBytes(4).toString('hex')}`;
const admin = postgres(urlFor('postgres'), { max: 1, onnotice: () => undefined });
const loadBefore = os.loadavg();
await admin.unsafe(`create database "${name}"`);
try {
  const database = await openDatabase({ databaseUrl: urlFor(name), dataDir: '', maxConnections: 4 });
  const raw = postgres(urlFor(name), { max: 1, onnotice: () => undefined });
  try {
    await database.migrate();
    const [{ version } = { version: 'unknown' }] = await raw<{ version: string }[]>`select version()`;

    let write: Record<string, number> | undefined;
    if (generate) {
      const subjects = Array.from({ length: 10_000 }, (_, i) => String(9_000_000_000 + i));
      await generateAuditEvents(raw, totalEvents, subjects, systemClock(), { recordsPerEvent, legacyEvents });
      console.log(`chain:  ${thousands(totalEvents)} events written with COPY (${thousands(legacyEvents)} of the earlier shape), ${recordsPerEvent} record(s) a READ event`);
    } else {
      let transactions = 0;
      const writer = createAuditWriter(database.db, { clock: systemClock, onCommitted: () => (transactions += 1) });
      let written = 0;
      let latencyTotal = 0;
      let latencyMax = 0;
      const shown = progress('written', totalEvents, 'events');
      const started = performance.now();
      await Promise.all(
        Array.from({ length: producers }, async (_, p) => {
          for (let r = 0; written < totalEvents; r += 1) {
            const n = Math.min(perRequest, totalEvents - written);
            written += n;
            const t0 = performance.now();
            await writer.append(requestEvents(`bench-${p}-${r}`, n));
            const latency = performance.now() - t0;
            latencyTotal += latency;
            latencyMax = Math.max(latencyMax, latency);
            shown.update(written);
          }
        }),
      );
      await writer.close();
      shown.finish(written);
      const writeSeconds = (performance.now() - started) / 1000;
      const requests = Math.ceil(written / perRequest);
      write = {
        events: written,
        seconds: writeSeconds,
        eventsPerSecond: written / writeSeconds,
        transactions,
        eventsPerCommit: written / transactions,
        meanAppendLatencyMs: latencyTotal / requests,
        maxAppendLatencyMs: latencyMax,
      };
      console.log(`write:  ${thousands(written)} events by ${producers} producers (${perRequest} events a request, ${recordsPerEvent} record(s) an event) in ${writeSeconds.toFixed(2)} s`);
      console.log(
        `        ${thousands(write.eventsPerSecond ?? 0)} events/s sustained (target >= ${thousands(writeTarget)}), ${transactions} transactions, ` +
          `${(write.eventsPerCommit ?? 0).toFixed(0)} events a commit, mean append latency ${(write.meanAppendLatencyMs ?? 0).toFixed(1)} ms, max ${latencyMax.toFixed(1)} ms`,
      );
    }
    await raw`vacuum analyze audit_events`;

    const runs: { events: number; wallPerSecond: number; perCore: number; nodeCpuMicrosPerEvent: number; postgresCpuMicrosPerEvent: number | undefined }[] = [];
    for (let run = 1; run <= verifyRuns; run += 1) {
      const pg0 = await postgresCpuMicros(raw);
      const cpu0 = process.cpuUsage();
      const v0 = performance.now();
      const result = await verifyChain(database.db, { pageSize });
      const seconds = (performance.now() - v0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const pg1 = await postgresCpuMicros(raw);
      if (!result.intact) throw new Error(`the generated chain did not verify: ${JSON.stringify(result.firstBad)}`);
      const nodeMicros = cpu.user + cpu.system;
      runs.push({
        events: result.checked,
        wallPerSecond: result.checked / seconds,
        perCore: (result.checked * 1e6) / nodeMicros,
        nodeCpuMicrosPerEvent: nodeMicros / result.checked,
        postgresCpuMicrosPerEvent: pg0 === undefined || pg1 === undefined ? undefined : (pg1 - pg0) / result.checked,
      });
      log(`verify run ${run}: ${thousands(result.checked)} events in ${seconds.toFixed(2)} s, ${thousands((result.checked * 1e6) / nodeMicros)} events/s per core of Node CPU`);
    }
    // The median run by Node CPU (the lower of the two middle ones for an even count), whole.
    const middle = [...runs].sort((a, b) => a.perCore - b.perCore)[Math.floor((runs.length - 1) / 2)] as (typeof runs)[number];
    const perCore = middle.perCore;
    const best = Math.max(...runs.map((r) => r.perCore));
    const wall = middle.wallPerSecond;
    const pgMicros = middle.postgresCpuMicrosPerEvent;
    console.log(`verify: ${thousands(runs[0]?.events ?? 0)} events, intact, ${verifyRuns} run(s)`);
    console.log(
      `        ${thousands(perCore)} events/s per core of Node CPU (median; best ${thousands(best)})   target >= ${thousands(verifyTarget)}: ${perCore >= verifyTarget ? 'met' : 'NOT met'}`,
    );
    console.log(
      `        ${thousands(wall)} events/s wall clock; Node ${middle.nodeCpuMicrosPerEvent.toFixed(2)} µs CPU an event` +
        (pgMicros === undefined ? '' : `, PostgreSQL ${pgMicros.toFixed(2)} µs CPU an event (reading and formatting the rows)`),
    );
    const loadAverage = (l: readonly number[]) => l.map((v) => v.toFixed(1)).join(' ');
    console.log(`        machine (${os.cpus().length} cores, shared with PostgreSQL): load average ${loadAverage(loadBefore)} before, ${loadAverage(os.loadavg())} after`);

    const command = `npx tsx bench/audit/run.ts ${process.argv.slice(2).join(' ')}`.trim();
    writeResultKeys(out, {
      audit: {
        at: new Date().toISOString(),
        command,
        machine: {
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model ?? 'unknown',
          node: process.version,
          postgres: version,
          loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
          loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
        },
        settings: { events: totalEvents, recordsPerEvent, legacyEvents, written: generate ? 'COPY' : 'writer', producers, eventsPerRequest: perRequest, verifyRuns, pageSize: pageSize ?? null },
        write: write ?? null,
        verify: {
          eventsPerSecondPerCore: perCore,
          bestEventsPerSecondPerCore: best,
          eventsPerSecondWallClock: wall,
          postgresCpuMicrosPerEvent: pgMicros ?? null,
          target: verifyTarget,
          met: perCore >= verifyTarget,
          runs,
        },
      },
    });
    log(`audit figures written to ${out} (key "audit")`);
  } finally {
    await raw.end({ timeout: 5 });
    await database.close();
  }
} finally {
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end({ timeout: 5 });
}
