/**
 * `accord agreements check` through the CLI entry point: agreement versions stored with a
 * recipient `roles: []` (accepted by earlier hubs as "any role", refused now and read as no role)
 * are listed with what the parties must do; exit 3 while one is ACTIVE or PENDING. Rows are
 * written to the table directly, since the hub no longer accepts such a document. Embedded PGlite
 * in a data directory, or (postgres project) the PostgreSQL database of DATABASE_URL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes, payloadHash } from '../../src/agreements/index.js';
import { runCli } from '../../src/cli/index.js';
import { openDatabase, tables, type Database } from '../../src/db/index.js';
import { createTestDatabase, testBackend, type TestDatabase } from '../helpers/test-database.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function document(id: string, version: number, recipients: unknown[], validUntil = '2099-12-31T23:59:59Z'): Record<string, unknown> {
  return {
    type: 'accord.isa/v1',
    id,
    version,
    title: `Check ${id}`,
    provider: 'kensington-chelsea',
    recipients,
    purposes: [{ code: 'safeguarding-children' }],
    lawfulBasis: { article6: 'public-task' },
    dataSubjects: ['children'],
    scope: [{ recordType: 'Demographics', fields: ['givenName'] }],
    validFrom: '2020-01-01T00:00:00Z',
    validUntil,
    retention: 'P2Y',
  };
}

describe('accord agreements check', { timeout: 120_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  let testDb: TestDatabase | undefined;

  async function accord(...args: string[]): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['node', 'accord', ...args], { env, io: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) } });
    return { code, stdout, stderr };
  }

  /** Writes agreement rows as an earlier hub stored them, then lets the CLI open the database. */
  async function store(...documents: Record<string, unknown>[]): Promise<void> {
    const database: Database = testDb === undefined ? await openDatabase({ dataDir: env.ACCORD_DATA_DIR ?? '' }) : await testDb.reopen();
    try {
      await database.migrate();
      for (const id of ['kensington-chelsea', 'westminster', 'met-police']) {
        await database.db.insert(tables.organisations).values({ id, name: id, kind: 'COUNCIL' }).onConflictDoNothing();
      }
      for (const doc of documents) {
        await database.db.insert(tables.agreements).values({
          id: doc.id as string,
          version: doc.version as number,
          provider: 'kensington-chelsea',
          title: doc.title as string,
          document: doc,
          envelope: { payload: Buffer.from(canonicalBytes(doc)).toString('base64url'), signatures: [] },
          payloadHash: payloadHash(canonicalBytes(doc)),
          validFrom: new Date(doc.validFrom as string),
          validUntil: new Date(doc.validUntil as string),
          submittedBy: 'kensington-chelsea',
        });
      }
    } finally {
      if (database !== testDb) await database.close();
    }
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-agreements-check-'));
    if (testBackend === 'postgres') {
      testDb = await createTestDatabase();
      env = { DATABASE_URL: testDb.url ?? '', ACCORD_DATA_DIR: path.join(dir, 'data') };
    } else {
      env = { ACCORD_DATA_DIR: path.join(dir, 'data') };
    }
  });
  afterAll(async () => {
    await testDb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 when no stored agreement has an empty roles list (roles absent or listed is fine)', async () => {
    await store(document('fine', 1, [{ org: 'westminster', roles: ['social-worker'] }, { org: 'met-police' }]));
    expect(await accord('agreements', 'check')).toEqual({ code: 0, stdout: 'no stored agreement gives a recipient an empty roles list\n', stderr: '' });
  });

  it('exits 0 but lists one that has ended: nothing to act on', async () => {
    await store(document('ended', 1, [{ org: 'westminster', roles: [] }], '2021-01-01T00:00:00Z'));
    const run = await accord('agreements', 'check', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      emptyRoleLists: [{ id: 'ended', version: 1, provider: 'kensington-chelsea', recipient: 'westminster', status: 'EXPIRED', actionNeeded: false }],
      actionNeeded: 0,
    });
  });

  it('exits 3 naming each ACTIVE version, its recipient and what the parties must do', async () => {
    await store(document('open-to-all', 1, [{ org: 'westminster', roles: [] }, { org: 'met-police', roles: ['mash-officer'] }]));
    const run = await accord('agreements', 'check');
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^2 stored agreement versions give a recipient an empty roles list\. The hub reads it as matching no role/);
    expect(run.stdout).toMatch(/open-to-all\s+1\s+ACTIVE\s+kensington-chelsea\s+westminster\s+sign a new version/);
    expect(run.stdout).toMatch(/ended\s+1\s+EXPIRED\s+kensington-chelsea\s+westminster\s+none/);
    expect(run.stdout).toMatch(/lists the roles that may see the data.*or leaves "roles" out when any role/);
    expect(run.stdout).not.toMatch(/met-police/);
    expect(run.stderr).toBe('error: 1 agreement version in force or pending must be replaced by a new version (see above)\n');

    const json = await accord('agreements', 'check', '--json');
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({
      emptyRoleLists: [
        { id: 'ended', version: 1, status: 'EXPIRED', actionNeeded: false },
        { id: 'open-to-all', version: 1, recipient: 'westminster', status: 'ACTIVE', actionNeeded: true },
      ],
      actionNeeded: 1,
    });
  });
});
