/**
 * The real `accord` binary, run as a child process the way an operator runs it, against an
 * embedded database in a temporary data directory.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabaseReplayGuard, createOrganisationKeyStore, verifyToken } from '../../src/auth/index.js';
import { systemClock } from '../../src/clock.js';
import { acquireDataDirLock, openDatabase } from '../../src/db/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'bin', 'accord.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function accord(args: readonly string[], env: Record<string, string>): Promise<Run> {
  // The CLI must use this test's data directory, never a DATABASE_URL the test run may have.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...inherited, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const oneErrorLine = (stderr: string) => {
  const lines = stderr.split('\n').filter((line) => line !== '');
  expect(lines[0]).toMatch(/^error: /);
  return lines[0] ?? '';
};

describe('accord CLI', { timeout: 120_000 }, () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-cli-'));
    env = { ACCORD_DATA_DIR: path.join(dir, 'data'), ACCORD_HUB_ID: 'test-hub' };
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('migrates, generates keys, registers an organisation, lists it and mints a token the hub verifies', async () => {
    const migrated = await accord(['migrate'], env);
    expect(migrated).toMatchObject({ code: 0, stdout: `database migrated (embedded, ${env.ACCORD_DATA_DIR})\n`, stderr: '' });
    expect(fs.existsSync(path.join(env.ACCORD_DATA_DIR ?? '', 'accord.lock'))).toBe(false); // released on exit

    const keysDir = path.join(dir, 'keys');
    const generated = await accord(['keys', 'generate', '--alg', 'ES256', '--kid', 'wcc-2026', '--out', keysDir, '--json'], env);
    expect(generated).toMatchObject({ code: 0, stderr: '' });
    const files = JSON.parse(generated.stdout) as { privateKeyFile: string; publicJwksFile: string };
    expect(files.privateKeyFile).toBe(path.join(keysDir, 'wcc-2026.private.jwk.json'));
    expect(fs.statSync(files.privateKeyFile).mode & 0o777).toBe(0o600);

    const added = await accord(['org', 'add', '--id', 'westminster', '--name', 'Westminster City Council', '--kind', 'COUNCIL', '--jwks', files.publicJwksFile], env);
    expect(added.stderr).toBe('');
    expect(added).toMatchObject({ code: 0, stdout: 'registered westminster (COUNCIL, "Westminster City Council"), active keys: wcc-2026\n' });

    const listed = await accord(['org', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      {
        id: 'westminster', name: 'Westminster City Council', kind: 'COUNCIL', createdAt: expect.any(String), updatedAt: expect.any(String),
        keys: [{ kid: 'wcc-2026', kty: 'EC', alg: 'ES256', crv: 'P-256', status: 'ACTIVE', addedAt: expect.any(String), retiredAt: null }],
      },
    ]);

    const minted = await accord(
      ['token', '--org', 'westminster', '--key', files.privateKeyFile, '--sub', 'jo.bloggs', '--purpose', 'safeguarding-children',
        '--roles', 'social-worker, dpo', '--ttl', '120', '--case-ref', 'CASE-42', '--break-glass', 'Child reported missing this evening'],
      env,
    );
    expect(minted.code).toBe(0);
    expect(minted.stderr).toBe('');
    // Only the token, so `$(npx accord token ...)` can be used directly.
    expect(minted.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    const database = await openDatabase({ dataDir: env.ACCORD_DATA_DIR ?? '', lockOwner: 'cli test' });
    try {
      const caller = await verifyToken(minted.stdout.trim(), {
        keys: createOrganisationKeyStore(database.db), hubId: 'test-hub', clock: systemClock, replay: createDatabaseReplayGuard(database.db, systemClock),
      });
      expect(caller).toMatchObject({
        org: 'westminster', sub: 'jo.bloggs', purpose: 'safeguarding-children', roles: ['social-worker', 'dpo'], caseRef: 'CASE-42',
        breakGlass: { reason: 'Child reported missing this evening' }, kid: 'wcc-2026',
      });
      expect(caller.expiresAt.getTime() - caller.issuedAt.getTime()).toBe(120_000);
    } finally {
      await database.close();
    }
  });

  it('rotates keys with org keys: the old key is retired, not deleted', async () => {
    const keysDir = path.join(dir, 'keys');
    expect((await accord(['keys', 'generate', '--alg', 'EdDSA', '--kid', 'wcc-2027', '--out', keysDir], env)).code).toBe(0);
    const rotated = await accord(['org', 'keys', '--id', 'westminster', '--jwks', path.join(keysDir, 'wcc-2027.jwks.json')], env);
    expect(rotated).toMatchObject({ code: 0, stdout: 'replaced the keys of westminster, active keys: wcc-2027; retired: wcc-2026\n' });
    const listed = await accord(['org', 'list'], env);
    expect(listed.stdout.split('\n')[1]).toMatch(/^westminster\s+COUNCIL\s+Westminster City Council\s+active keys: wcc-2027; retired: wcc-2026$/);
  });

  it.each<[string, (keys: string) => string[], RegExp]>([
    ['a key file that does not exist', () => ['org', 'add', '--id', 'camden', '--name', 'Camden', '--kind', 'COUNCIL', '--jwks', '/no/such/file.json'], /^error: cannot read the key set \/no\/such\/file\.json: no such file$/],
    ['a key file that is not JSON', (keys) => ['org', 'add', '--id', 'camden', '--name', 'Camden', '--kind', 'COUNCIL', '--jwks', path.join(keys, 'broken.json')], /^error: the key set .*broken\.json is not valid JSON$/],
    ['a private key given as the key set', (keys) => ['org', 'add', '--id', 'camden', '--name', 'Camden', '--kind', 'COUNCIL', '--jwks', path.join(keys, 'wcc-2027.private.jwk.json')], /^error: invalid organisation: jwks: is a private key: a private key must never be uploaded/],
    ['an unknown organisation for org keys', (keys) => ['org', 'keys', '--id', 'nobody', '--jwks', path.join(keys, 'wcc-2027.jwks.json')], /^error: organisation "nobody" is not registered$/],
    ['an organisation registered twice', (keys) => ['org', 'add', '--id', 'westminster', '--name', 'W', '--kind', 'COUNCIL', '--jwks', path.join(keys, 'wcc-2027.jwks.json')], /^error: invalid organisation: id: an organisation with id "westminster" is already registered$/],
    ['a public key set given to token', (keys) => ['token', '--org', 'westminster', '--key', path.join(keys, 'wcc-2027.jwks.json'), '--sub', 's', '--purpose', 'p'], /^error: .*wcc-2027\.jwks\.json is a public key set: pass the organisation's \.private\.jwk\.json file$/],
    ['a short break-glass reason', (keys) => ['token', '--org', 'westminster', '--key', path.join(keys, 'wcc-2027.private.jwk.json'), '--sub', 's', '--purpose', 'p', '--break-glass', 'urgent'], /^error: invalid token request: breakGlass: the reason must be at least 20 characters$/],
  ])('fails with exit 1 and a one-line reason for %s', async (_name, args, message) => {
    const keys = path.join(dir, 'keys');
    fs.writeFileSync(path.join(keys, 'broken.json'), '{ "keys": [ oops');
    const run = await accord(args(keys), env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(oneErrorLine(run.stderr)).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a missing required option', ['org', 'add', '--id', 'camden'], /required option '--name <name>' not specified/],
    ['a kind that does not exist', ['org', 'add', '--id', 'c', '--name', 'C', '--kind', 'PARISH', '--jwks', 'x'], /Allowed choices are COUNCIL, NHS_TRUST, POLICE, SCHOOL, OTHER/],
    ['an algorithm that is not accepted', ['keys', 'generate', '--alg', 'HS256', '--kid', 'k', '--out', '.'], /Allowed choices are EdDSA, ES256, ES384, PS256, RS256/],
    ['a ttl over 300 s', ['token', '--org', 'w', '--key', 'k', '--sub', 's', '--purpose', 'p', '--ttl', '301'], /from 1 to 300/],
  ])('exits 2 on a usage error: %s', async (_name, args, message) => {
    const run = await accord(args, env);
    expect(run.code).toBe(2);
    expect(oneErrorLine(run.stderr)).toMatch(message);
  });

  it.each([['migrate'], ['serve'], ['org add'], ['org keys'], ['org list'], ['keys generate'], ['token']])('%s --help describes the command with an example', async (command) => {
    const run = await accord([...command.split(' '), '--help'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: accord ${command}`));
    expect(run.stdout).toMatch(/Examples?[^:]*:\n\s+\$ .*npx accord /);
  });

  it('refuses to open a data directory that another process holds, with the lock message and exit 1', async () => {
    const held = path.join(dir, 'held');
    const lock = acquireDataDirLock(held, 'accord serve (test)');
    try {
      const run = await accord(['org', 'list'], { ACCORD_DATA_DIR: held });
      expect(run.code).toBe(1);
      expect(oneErrorLine(run.stderr)).toBe(
        `error: the data directory ${held} is in use by process ${process.pid} (accord serve (test), since ${JSON.parse(fs.readFileSync(lock.path, 'utf8')).startedAt}). ` +
          'The embedded database cannot be shared between processes: stop that process first, or point both at PostgreSQL with DATABASE_URL.',
      );
      expect(fs.existsSync(path.join(held, 'pgdata'))).toBe(false); // never touched the files
    } finally {
      lock.release();
    }
  });

  it('reports invalid configuration in one line naming the variable', async () => {
    const run = await accord(['org', 'list'], { ...env, ACCORD_MODE: 'staging' });
    expect(run.code).toBe(1);
    expect(oneErrorLine(run.stderr)).toBe('error: invalid configuration: ACCORD_MODE must be one of demo, production (got "staging")');
  });
});
