/**
 * Audit trail benchmark (not part of `npm test`): `DATABASE_URL=postgres://... npx tsx bench/audit/run.ts`
 *
 * Creates its own database on the server of DATABASE_URL, drops it at the end, and prints:
 * - sustained events/s written through the real group-committing writer by concurrent producers
 *   (each producer appends one request's events at a time and waits for the commit, like the hub);
 * - events/s recomputed by `verifyChain` (wall clock, and per core of CPU time used by Node).
 *
 * Options (environment): BENCH_EVENTS (default 300000), BENCH_PRODUCERS (64),
 * BENCH_EVENTS_PER_REQUEST (10).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { createAuditWriter, verifyChain, type AuditEventInput } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/index.js';

const base = process.env.DATABASE_URL;
if (base === undefined || base === '') {
  console.error('DATABASE_URL (postgres://...) is required');
  process.exit(2);
}
const totalEvents = Number(process.env.BENCH_EVENTS ?? 300_000);
const producers = Number(process.env.BENCH_PRODUCERS ?? 64);
const perRequest = Number(process.env.BENCH_EVENTS_PER_REQUEST ?? 10);

function urlFor(database: string): string {
  const url = new URL(base as string);
  url.pathname = `/${database}`;
  return url.toString();
}

const fields = ['givenName', 'familyName', 'dateOfBirth', 'postcode'];
const agreements = [{ id: 'triborough-mash-children', version: 3, payloadHash: 'a3f1'.repeat(16) }];

function requestEvents(requestId: string, n: number): AuditEventInput[] {
  const events: AuditEventInput[] = [];
  for (let i = 0; i < n; i += 1) {
    events.push({
      requestId,
      actorOrg: 'westminster',
      actorUser: 'jane.smith@westminster.gov.uk',
      actorRoles: ['social-worker'],
      purpose: 'safeguarding-children',
      caseRef: 'WCC-2026-00042',
      action: 'READ',
      ownerOrg: 'kensington-chelsea',
      recordType: 'Demographics',
      recordId: randomUUID(),
      nhsNumber: String(9_000_000_000 + Math.floor(Math.random() * 999_999_999)),
      fields,
      agreements,
      outcome: 'SUCCESS',
      operationName: 'SubjectView',
      queryHash: 'b7e2'.repeat(16),
      sensitivity: 'personal',
    });
  }
  return events;
}

const name = `accord_bench_audit_${randomBytes(4).toString('hex')}`;
const admin = postgres(urlFor('postgres'), { max: 1, onnotice: () => undefined });
await admin.unsafe(`create database "${name}"`);
try {
  const database = await openDatabase({ databaseUrl: urlFor(name), dataDir: '', maxConnections: 4 });
  await database.migrate();
  let transactions = 0;
  const writer = createAuditWriter(database.db, { clock: systemClock, onCommitted: () => (transactions += 1) });

  let written = 0;
  let latencyTotal = 0;
  let latencyMax = 0;
  const started = performance.now();
  let nextProgress = started + 1000;
  await Promise.all(
    Array.from({ length: producers }, async (_, p) => {
      for (let r = 0; written < totalEvents; r += 1) {
        const t0 = performance.now();
        await writer.append(requestEvents(`bench-${p}-${r}`, perRequest));
        const latency = performance.now() - t0;
        latencyTotal += latency;
        latencyMax = Math.max(latencyMax, latency);
        written += perRequest;
        if (performance.now() > nextProgress) {
          nextProgress += 1000;
          process.stderr.write(`  written ${written}\r`);
        }
      }
    }),
  );
  await writer.close();
  const writeSeconds = (performance.now() - started) / 1000;
  const requests = written / perRequest;
  console.log(`write:  ${written} events by ${producers} producers (${perRequest} events a request) in ${writeSeconds.toFixed(2)} s`);
  console.log(`        ${Math.round(written / writeSeconds)} events/s sustained (target >= 10000), ${transactions} transactions, ` +
    `${(written / transactions).toFixed(0)} events a commit, mean append latency ${(latencyTotal / requests).toFixed(1)} ms, max ${latencyMax.toFixed(1)} ms`);

  const cpu0 = process.cpuUsage();
  const v0 = performance.now();
  const result = await verifyChain(database.db);
  const verifySeconds = (performance.now() - v0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(`verify: ${result.checked} events, intact=${result.intact} in ${verifySeconds.toFixed(2)} s`);
  console.log(`        ${Math.round(result.checked / verifySeconds)} events/s wall clock, ` +
    `${Math.round(result.checked / cpuSeconds)} events/s per core of Node CPU (target >= 250000)`);
  await database.close();
} finally {
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end({ timeout: 5 });
}
