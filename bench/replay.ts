/**
 * What replay protection and the per-request limit checks cost.
 *
 *   npx tsx bench/replay.ts                       # embedded PGlite
 *   DATABASE_URL=postgres://... npx tsx bench/replay.ts   # PostgreSQL (a scratch database is
 *                                                         # created and dropped)
 *
 * 1. The claim alone: the database replay guard (one INSERT ... ON CONFLICT per new jti, the
 *    cross-instance authority) against the in-memory guard (one process only), and a replayed
 *    jti answered by the database guard's memory front.
 * 2. The same on the real request path: N sequential `{ me { subject } }` requests to a running
 *    hub with pre-minted tokens, once with the database guard and once with the memory guard
 *    swapped in, in alternating rounds (the machine is shared); the difference is what the
 *    cross-instance guarantee costs a request.
 * 3. The rate limiter's `take` (in memory, no round trip). The operation-limit rules are
 *    measured by bench/limits.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { createApp } from '../src/app.js';
import { createDatabaseReplayGuard, createMemoryReplayGuard, generateSigningKey, registerOrganisation, signCallerToken, type ReplayGuard } from '../src/auth/index.js';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/index.js';
import { createRateLimiter } from '../src/http/rate-limiter.js';

const requestsPerRound = Number(process.env.BENCH_REQUESTS ?? 300);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const claimsPerRound = 2_000;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function openScratchDatabase(): Promise<{ database: Database; drop: () => Promise<void>; backend: string }> {
  const url = process.env.DATABASE_URL;
  if (url === undefined || url === '') {
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    return { database, drop: async () => await database.close(), backend: 'PGlite (in memory)' };
  }
  const name = `accord_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: scratch.toString(), dataDir: '' });
  await database.migrate();
  return {
    database,
    backend: 'PostgreSQL',
    drop: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/** µs per claim of fresh jtis (or of one jti again and again when `replayed`). */
async function claimMicros(guard: ReplayGuard, replayed = false): Promise<number> {
  const expiresAt = new Date(Date.now() + 330_000);
  const fixed = randomUUID();
  if (replayed) await guard.claim('bench-org', fixed, expiresAt);
  const started = performance.now();
  for (let i = 0; i < claimsPerRound; i += 1) await guard.claim('bench-org', replayed ? fixed : randomUUID(), expiresAt);
  return ((performance.now() - started) * 1000) / claimsPerRound;
}

const { database, drop, backend } = await openScratchDatabase();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-bench-replay-'));
try {
  // 1. The claim alone.
  const dbGuard = createDatabaseReplayGuard(database.db, systemClock);
  const memoryGuard = createMemoryReplayGuard(systemClock);
  const claims = { database: [] as number[], memory: [] as number[], replayedFront: [] as number[] };
  for (let round = 0; round < rounds; round += 1) {
    claims.database.push(await claimMicros(dbGuard));
    claims.memory.push(await claimMicros(memoryGuard));
    claims.replayedFront.push(await claimMicros(dbGuard, true));
  }

  // 3. The rate limiter.
  const limiter = createRateLimiter({ defaultPerSecond: 1e6, defaultBurst: 1e6, perOrg: () => undefined, instanceCount: () => 2 });
  const takes = 200_000;
  const started = performance.now();
  for (let i = 0; i < takes; i += 1) limiter.take(`org-${i % 20}`);
  const takeMicros = ((performance.now() - started) * 1000) / takes;

  // 2. The request path.
  const config = loadConfig({ ACCORD_MODE: 'production', LOG_LEVEL: 'silent', ACCORD_DATA_DIR: dataDir, ACCORD_RATE_LIMIT_PER_SECOND: '1000000', ACCORD_RATE_LIMIT_BURST: '1000000' });
  const app = await createApp(config, { database, seedDemo: false });
  const { url } = await app.start({ port: 0, host: '127.0.0.1' });
  const { privateJwk, publicJwks } = await generateSigningKey({ alg: 'EdDSA', kid: 'bench-key-1' });
  await registerOrganisation(database.db, { id: 'bench-council', name: 'Bench Council', kind: 'COUNCIL', jwks: publicJwks });
  const mint = () => signCallerToken({ org: 'bench-council', privateJwk, sub: 'bench', purpose: 'bench', roles: ['social-worker'], hubId: config.hubId, clock: systemClock });
  const body = JSON.stringify({ query: '{ me { subject } }' });
  const services = app.services as { replay: ReplayGuard };
  const hubGuard = services.replay;

  async function requestMillis(guard: ReplayGuard): Promise<number> {
    services.replay = guard;
    const tokens = await Promise.all(Array.from({ length: requestsPerRound }, mint));
    const begun = performance.now();
    for (const token of tokens) {
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
      if (response.status !== 200) throw new Error(`unexpected status ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
    return (performance.now() - begun) / requestsPerRound;
  }

  await requestMillis(hubGuard); // warm up
  const perRequest = { database: [] as number[], memory: [] as number[] };
  for (let round = 0; round < rounds; round += 1) {
    perRequest.database.push(await requestMillis(hubGuard));
    perRequest.memory.push(await requestMillis(memoryGuard));
  }
  services.replay = hubGuard;
  await app.stop();

  const f = (n: number, digits = 1) => n.toFixed(digits);
  const lines = [
    `Replay protection and per-request checks on ${backend}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]?.toFixed(1)} (medians of ${rounds} alternating rounds)`,
    '',
    '| measure | median |',
    '| --- | --- |',
    `| claim a new jti, database guard (INSERT ... ON CONFLICT) | ${f(median(claims.database))} µs |`,
    `| claim a new jti, memory guard (one process only) | ${f(median(claims.memory), 2)} µs |`,
    `| refuse a replayed jti, database guard's memory front | ${f(median(claims.replayedFront), 2)} µs |`,
    `| request \`{ me { subject } }\`, database guard | ${f(median(perRequest.database), 2)} ms |`,
    `| request \`{ me { subject } }\`, memory guard | ${f(median(perRequest.memory), 2)} ms |`,
    `| → cost of the cross-instance guard per request | ${f((median(perRequest.database) - median(perRequest.memory)) * 1000, 0)} µs |`,
    `| rate limiter take (in memory) | ${f(takeMicros, 3)} µs |`,
  ];
  console.log(lines.join('\n'));
} finally {
  await drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
