/**
 * `accord audit verify` and `accord audit export` through the CLI entry point, against a database
 * filled by the real writer and checkpointer: embedded PGlite in a data directory, or (in the
 * postgres project) a PostgreSQL database given by DATABASE_URL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditWriter, createCheckpointer, loadHubSigningKey } from '../../src/audit/index.js';
import { runCli } from '../../src/cli/index.js';
import { fixedClock } from '../../src/clock.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { createTestDatabase, testBackend, type TestDatabase } from '../helpers/test-database.js';
import { readEvent } from '../audit/helpers.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const clock = fixedClock(new Date('2026-03-01T09:30:00.000Z'));

describe('accord audit', { timeout: 120_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  let testDb: TestDatabase | undefined;

  async function accord(...args: string[]): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['node', 'accord', ...args], {
      env,
      io: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    });
    return { code, stdout, stderr };
  }

  /** The database the CLI will open, opened by the test (PGlite: the data directory's lock is released on close). */
  async function open(): Promise<Database> {
    if (testDb !== undefined) return testDb.reopen();
    const database = await openDatabase({ dataDir: env.ACCORD_DATA_DIR ?? '' });
    await database.migrate();
    return database;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-audit-cli-'));
    if (testBackend === 'postgres') {
      testDb = await createTestDatabase();
      env = { DATABASE_URL: testDb.url ?? '', ACCORD_HUB_ID: 'test-hub', ACCORD_DATA_DIR: path.join(dir, 'data') };
    } else {
      env = { ACCORD_DATA_DIR: path.join(dir, 'data'), ACCORD_HUB_ID: 'test-hub' };
    }
    // 30 events over three days, checkpoints at seq 10 and 20.
    const database = await open();
    try {
      const key = await loadHubSigningKey({ dataDir: env.ACCORD_DATA_DIR ?? '', db: database.db, clock });
      const writer = createAuditWriter(database.db, { clock });
      const checkpointer = createCheckpointer(database.db, { key, everyEvents: 1_000_000, intervalMs: 3_600_000, clock });
      for (let day = 0; day < 3; day += 1) {
        const at = new Date(Date.UTC(2026, 2, 1 + day, 12));
        await writer.append(Array.from({ length: 10 }, (_, i) => readEvent(day * 10 + i + 1, { at, ...(i === 0 ? { nhsNumber: null, action: 'ADMIN', recordType: null } : {}) })));
        if (day < 2) await checkpointer.checkpointNow();
      }
      await checkpointer.stop();
      await writer.close();
    } finally {
      if (testDb === undefined) await database.close();
      else if (database !== testDb) await database.close();
    }
  });
  afterAll(async () => {
    await testDb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('verify: exit 0 and a line saying the chain is intact, with what was checked', async () => {
    const run = await accord('audit', 'verify');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^audit chain intact: 30 events \(seq 1 to 30\), 2 signed checkpoints verified, head hash [0-9a-f]{64}\n$/);
    // stderr is not a terminal here, so no progress is drawn.
    expect(run.stderr).toBe('');
  });

  it('verify --json: the result as JSON', async () => {
    const run = await accord('audit', 'verify', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ intact: true, headSeq: 30, eventsChecked: 30, checkpointsChecked: 2, verifiedUpTo: 30, firstBad: null });
  });

  it('export ndjson: every event in seq order, each the hashed object plus prevHash and hash', async () => {
    const out = path.join(dir, 'all.ndjson');
    const run = await accord('audit', 'export', '--format', 'ndjson', '--out', out);
    expect(run).toMatchObject({ code: 0, stdout: `exported 30 audit events as ndjson to ${out}\n` });
    const events = fs.readFileSync(out, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(events[1]).toMatchObject({ requestId: 'req-2', action: 'READ', nhsNumber: '9434765919' });
    expect((events[1]?.records as { fields: string[] }[])[0]?.fields).toEqual(['familyName', 'givenName']);
    expect(events[1]?.prevHash).toBe(events[0]?.hash);
  });

  it('export csv with --from/--to: the header and the events of that day only', async () => {
    const out = path.join(dir, 'day2.csv');
    const run = await accord('audit', 'export', '--format', 'csv', '--from', '2026-03-02', '--to', '2026-03-03T00:00:00Z', '--out', out);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^exported 10 audit events \(2026-03-02T00:00:00.000Z to 2026-03-03T00:00:00.000Z\) as csv/);
    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^seq,id,at,request_id,/);
    expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));
  });

  it('export fhir: one Bundle of FHIR R5 AuditEvent resources naming the patient by NHS number', async () => {
    const out = path.join(dir, 'audit.fhir.json');
    const run = await accord('audit', 'export', '--format', 'fhir', '--out', out);
    expect(run.code).toBe(0);
    const bundle = JSON.parse(fs.readFileSync(out, 'utf8')) as { resourceType: string; type: string; entry: { resource: Record<string, unknown> }[] };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry).toHaveLength(30);
    const read = bundle.entry[1]?.resource;
    expect(read).toMatchObject({ resourceType: 'AuditEvent', patient: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' } } });
    expect(JSON.stringify(read)).toContain('triborough-mash-children');
    expect(JSON.stringify(bundle.entry[0]?.resource)).not.toContain('nhs-number');
  });

  it.each([
    [['audit', 'export', '--format', 'xml', '--out', 'x'], /argument 'xml' is invalid/],
    [['audit', 'export', '--format', 'csv'], /--out/],
    [['audit', 'export', '--format', 'csv', '--out', 'x', '--from', 'yesterday'], /--from must be an RFC 3339 date-time/],
    [['audit', 'export', '--format', 'csv', '--out', 'x', '--from', '2026-03-02', '--to', '2026-03-01'], /--to must be after --from/],
  ])('export refuses bad usage with exit 2: %j', async (args, message) => {
    const run = await accord(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(fs.existsSync('x')).toBe(false);
  });

  it('export to a directory that does not exist fails with exit 1 and leaves no file', async () => {
    const out = path.join(dir, 'missing', 'audit.csv');
    const run = await accord('audit', 'export', '--format', 'csv', '--out', out);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot write .*ENOENT/);
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false);
  });

  it('verify after a superuser edits an event: exit 1 naming the first bad seq and what is wrong', async () => {
    const database = await open();
    try {
      await database.db.execute(sql`alter table audit_events disable trigger user`);
      await database.db.execute(sql`update audit_events set records = jsonb_set(records, '{0,fields}', '["givenName","familyName","postcode"]'::jsonb) where seq = 17`);
      await database.db.execute(sql`alter table audit_events enable trigger user`);
    } finally {
      await database.close();
    }
    const run = await accord('audit', 'verify');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('error: audit chain NOT intact: first bad seq 17 (hash-mismatch): event 17 was altered: its content no longer matches its hash\n');
    const json = await accord('audit', 'verify', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ intact: false, verifiedUpTo: 16, firstBad: { seq: 17, kind: 'hash-mismatch' } });
  });
});
