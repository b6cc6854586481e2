/**
 * `accord demo reset`, run in-process through runCli against a temporary data directory.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { acquireDataDirLock, openDatabase } from '../../src/db/index.js';
import { listOrganisations } from '../../src/auth/index.js';
import { readDemoKey } from '../../src/sandbox/index.js';

let dir: string;

async function accord(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'accord', ...args], { env, io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) } });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'accord-demo-reset-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('accord demo reset', { timeout: 120_000 }, () => {
  it('seeds an empty data directory, and a second reset starts again with new keys', async () => {
    const env = { ACCORD_DATA_DIR: path.join(dir, 'a') };
    const first = await accord(['demo', 'reset', '--json'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ seeded: true, organisations: 7, agreements: 8, people: 200 });
    const keyBefore = await readDemoKey(env.ACCORD_DATA_DIR, 'westminster');

    const second = await accord(['demo', 'reset'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^demo partnership reset: 7 organisations, 8 agreements, 200 synthetic people/);
    const keyAfter = await readDemoKey(env.ACCORD_DATA_DIR, 'westminster');
    expect(keyAfter?.x).not.toBe(keyBefore?.x);

    const database = await openDatabase({ dataDir: env.ACCORD_DATA_DIR });
    try {
      const organisations = await listOrganisations(database.db);
      expect(organisations).toHaveLength(7);
      expect(organisations.find((o) => o.id === 'westminster')?.keys.map((k) => k.jwk.x)).toEqual([keyAfter?.x]);
    } finally {
      await database.close();
    }
  });

  it('refuses while another process holds the data directory, and leaves the database alone', async () => {
    const env = { ACCORD_DATA_DIR: path.join(dir, 'b') };
    expect((await accord(['demo', 'reset'], env)).code).toBe(0);
    const pgdata = await fs.readdir(path.join(env.ACCORD_DATA_DIR, 'pgdata'));
    const lock = acquireDataDirLock(env.ACCORD_DATA_DIR, 'a running hub');
    try {
      const refused = await accord(['demo', 'reset'], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error: the data directory .* is in use by process \d+ \(a running hub/);
      expect(await fs.readdir(path.join(env.ACCORD_DATA_DIR, 'pgdata'))).toEqual(pgdata);
    } finally {
      lock.release();
    }
  });

  it('refuses to empty a PostgreSQL database without --yes, before connecting to it', async () => {
    const refused = await accord(['demo', 'reset'], { ACCORD_DATA_DIR: path.join(dir, 'c'), DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: refusing to empty the PostgreSQL database at DATABASE_URL without --yes/);
  });

  it('documents itself', async () => {
    const help = await accord(['demo', 'reset', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--yes');
    expect(help.stdout).toContain('$ npx accord demo reset');
  });
});
