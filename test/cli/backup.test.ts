/**
 * `accord backup` and `accord restore` on the embedded database: a seeded demo data directory
 * backed up with no hub, and through a real running hub process while it serves; restored into
 * empty and non-empty directories; and damaged or foreign files refused without touching
 * anything.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCallerToken } from '../../src/auth/index.js';
import { decodeBackup } from '../../src/backup/index.js';
import { runCli } from '../../src/cli/index.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase, rowsOf } from '../../src/db/index.js';
import { readDemoKey } from '../../src/sandbox/index.js';
import { killHubProcess, startHubProcess, type HubProcess } from '../helpers/hub-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'bin', 'accord.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** In-process, as the other CLI tests do: fast, the same code path as the binary. */
async function accord(args: string[], env: Record<string, string>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'accord', ...args], { env, io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) } });
  return { code, stdout, stderr };
}

/** The real binary as a child process (a process of its own next to a running hub). */
function accordProcess(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...inherited, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** Sends one line to a Unix socket and resolves with everything it answers. */
function askSocket(socketPath: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.createConnection(socketPath, () => socket.write(line));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.once('end', () => resolve(answer));
    socket.once('error', reject);
  });
}

/** Every file under a directory with the SHA-256 of its content: "unchanged" means equal. */
function treeOf(dir: string): Record<string, string> {
  const tree: Record<string, string> = {};
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(name);
      else tree[name] = createHash('sha256').update(fs.readFileSync(path.join(dir, name))).digest('hex');
    }
  };
  walk('');
  return tree;
}

/** What a restore must give back: every audit event's hash, and the records of every type. */
async function contentsOf(dataDir: string) {
  const database = await openDatabase({ dataDir, lockOwner: 'backup test' });
  try {
    const query = async <T>(text: string) => rowsOf<T>(await database.db.execute(sql.raw(text)));
    const digest = async (table: string) =>
      (await query<{ n: number; digest: string | null }>(`select count(*)::int as n, md5(string_agg(t::text, '|' order by t::text)) as digest from ${table} t`))[0];
    return {
      audit: await query<{ seq: number; hash: string }>('select seq::float8 as seq, hash from audit_events order by seq'),
      records: Object.fromEntries(
        await Promise.all(
          ['organisations', 'subjects', 'demographics', 'social_care_cases', 'school_enrolments', 'housing_tenancies', 'police_notifications', 'gp_registrations', 'agreements'].map(
            async (table) => [table, await digest(table)] as const,
          ),
        ),
      ),
      aSubject: (await query<{ nhs_number: string }>('select nhs_number from subjects order by nhs_number limit 1'))[0]?.nhs_number ?? '',
    };
  } finally {
    await database.close();
  }
}

let dir: string;
/** The seeded demo data directory, and what it held when first backed up. */
let source: string;
let sourceContents: Awaited<ReturnType<typeof contentsOf>>;
const backupFile = () => path.join(dir, 'first.backup');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-backup-'));
  source = path.join(dir, 'source');
  const seeded = await accord(['demo', 'reset'], { ACCORD_DATA_DIR: source });
  expect(seeded.stderr).toBe('');
  expect(seeded.code).toBe(0);
  sourceContents = await contentsOf(source);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('accord backup and restore', { timeout: 60_000 }, () => {
  it('backs up a demo data directory with no hub running; restored into an empty directory it holds the same records and audit trail, and audit verify passes', async () => {
    const backedUp = await accord(['backup', '--out', backupFile()], { ACCORD_DATA_DIR: source });
    expect(backedUp.code).toBe(0);
    expect(backedUp.stdout).toMatch(new RegExp(`^backup written to ${backupFile()} \\(no hub running\\): [\\d.]+ MB, audit head seq ${sourceContents.audit.length}, \\d+ files \\(pgdata\\.tar\\.gz, demo-keys/`));
    expect(fs.statSync(backupFile()).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${backupFile()}.partial`)).toBe(false);
    const { manifest } = decodeBackup(fs.readFileSync(backupFile()));
    expect(manifest).toMatchObject({
      type: 'accord.backup',
      formatVersion: 1,
      database: { kind: 'pglite', migrations: expect.any(Number) },
      audit: { headSeq: sourceContents.audit.length, headHash: sourceContents.audit.at(-1)?.hash },
    });

    const target = path.join(dir, 'restored');
    const restored = await accord(['restore', '--from', backupFile()], { ACCORD_DATA_DIR: target });
    expect(restored.code).toBe(0);
    expect(restored.stdout).toBe(
      `restored ${backupFile()} into ${target}: ${sourceContents.audit.length} audit events verified (seq 1 to ${sourceContents.audit.length}, head hash ${sourceContents.audit.at(-1)?.hash}), 0 signed checkpoints\n`,
    );
    expect(restored.stderr).toMatch(/^checked .*first\.backup: made .* by Accord .*, SHA-256 verified\nloading the database/);
    expect(fs.readdirSync(target).sort()).toEqual(['demo-keys', 'pgdata']);
    expect(treeOf(path.join(target, 'demo-keys'))).toEqual(treeOf(path.join(source, 'demo-keys')));
    expect(fs.statSync(path.join(target, 'demo-keys', 'westminster.private.jwk.json')).mode & 0o777).toBe(0o600);

    const verified = await accord(['audit', 'verify'], { ACCORD_DATA_DIR: target });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`^audit chain intact: ${sourceContents.audit.length} events`));
    expect(await contentsOf(target)).toEqual(sourceContents);
  });

  it('backs up through a running hub while it serves and writes audit events, consistently; restore is refused while the hub holds the directory', async () => {
    let hub: HubProcess | undefined;
    const hubBackup = path.join(dir, 'from-hub.backup');
    try {
      hub = await startHubProcess({ ACCORD_DATA_DIR: source, ACCORD_MODE: 'demo' });
      expect(fs.statSync(path.join(source, 'accord.sock')).mode & 0o777).toBe(0o600);
      expect(await askSocket(path.join(source, 'accord.sock'), 'GET / HTTP/1.1\n')).toBe(`${JSON.stringify({ ok: false, error: 'not a backup request this hub understands' })}\n`);
      const privateJwk = await readDemoKey(source, 'westminster');
      if (privateJwk === undefined) throw new Error('no demo key for westminster');
      const url = hub.url;
      const ask = async () => {
        const token = await signCallerToken({
          org: 'westminster', privateJwk, sub: 'sam@westminster.example', purpose: 'safeguarding-children', roles: ['social-worker'],
          hubId: 'accord-hub', clock: systemClock,
        });
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: `{ subject(nhsNumber: "${sourceContents.aSubject}") { demographics { givenName } } }` }),
        });
        return response.status;
      };
      expect(await ask()).toBe(200);

      // Requests keep coming (each one audited) while the backup is made.
      let backingUp = true;
      const statuses: number[] = [];
      const traffic = (async () => {
        while (backingUp) statuses.push(await ask());
      })();
      const backedUp = await accordProcess(['backup', '--out', hubBackup], { ACCORD_DATA_DIR: source });
      backingUp = false;
      await traffic;
      expect(backedUp.stderr).toBe("note: the backup holds the hub's private signing key: keep it as safe as the key itself\n");
      expect(backedUp.code).toBe(0);
      expect(backedUp.stdout).toMatch(/\(made by the running hub\).*hub-signing-key\.json\)\n$/);
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(decodeBackup(fs.readFileSync(hubBackup)).manifest.audit.headSeq).toBeGreaterThan(sourceContents.audit.length);

      const refused = await accord(['restore', '--from', hubBackup, '--force'], { ACCORD_DATA_DIR: source });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/\nerror: the data directory .* is in use by process \d+ \(accord serve \(demo\)/);
    } finally {
      if (hub !== undefined) {
        const exited = hub.exited();
        hub.child.kill('SIGTERM');
        await exited;
      }
      await killHubProcess(hub);
    }
    expect(fs.existsSync(path.join(source, 'accord.sock'))).toBe(false);
  });

  it('refuses a data directory that is not empty without --force, leaving it untouched, and replaces it with --force (the backup the hub made)', async () => {
    const target = path.join(dir, 'restored');
    const before = treeOf(target);
    const refused = await accord(['restore', '--from', path.join(dir, 'from-hub.backup')], { ACCORD_DATA_DIR: target });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`\\nerror: refusing to restore into ${target}: it is not empty \\(demo-keys, pgdata\\)\\. Pass --force to replace its contents`));
    expect(treeOf(target)).toEqual(before);

    // The hub's copy is a consistent snapshot: restore verifies its whole chain up to the head it names.
    const forced = await accord(['restore', '--from', path.join(dir, 'from-hub.backup'), '--force'], { ACCORD_DATA_DIR: target });
    expect(forced.code).toBe(0);
    const { manifest } = decodeBackup(fs.readFileSync(path.join(dir, 'from-hub.backup')));
    expect(forced.stdout).toMatch(
      new RegExp(`: ${manifest.audit.headSeq} audit events verified \\(seq 1 to ${manifest.audit.headSeq}, head hash ${manifest.audit.headHash}\\), \\d+ signed checkpoints?; replaced demo-keys, pgdata\\n$`),
    );
    expect(fs.readdirSync(target).sort()).toEqual(['demo-keys', 'hub-signing-key.json', 'pgdata']);
    expect(fs.readFileSync(path.join(target, 'hub-signing-key.json'))).toEqual(fs.readFileSync(path.join(source, 'hub-signing-key.json')));
  });

  const damaged: [string, (good: Buffer) => Buffer | string, RegExp][] = [
    ['a truncated file', (good) => good.subarray(0, Math.floor(good.length / 2)), /is truncated: \d+ of its \d+ payload bytes are present/],
    ['a file cut inside its manifest', (good) => good.subarray(0, 120), /is truncated: it ends inside its manifest/],
    [
      'a file with one payload byte flipped',
      (good) => {
        const bad = Buffer.from(good);
        const at = good.length - 1000;
        bad[at] = (bad[at] ?? 0) ^ 0x01;
        return bad;
      },
      /is corrupt: its payload does not match the SHA-256 in its manifest/,
    ],
    [
      'a file with one manifest byte flipped',
      (good) => {
        const bad = Buffer.from(good);
        const at = good.indexOf('"createdAt"') + 3;
        bad[at] = (bad[at] ?? 0) ^ 0x01;
        return bad;
      },
      /is corrupt: its manifest does not match the SHA-256 in its header/,
    ],
    ['bytes appended', (good) => Buffer.concat([good, Buffer.from('extra')]), /is corrupt: 5 unexpected bytes follow its payload/],
    ['a bare PGlite tarball', (good) => Buffer.from(decodeBackup(good).files[0]?.data ?? []), /is not an Accord backup: it does not start with ACCORD-BACKUP\/ \(it looks like a gzip file\)/],
    ['a JSON file', () => JSON.stringify({ keys: [{ kty: 'OKP' }] }), /is not an Accord backup: it does not start with ACCORD-BACKUP\/ \(it looks like JSON\)/],
    ['an empty file', () => '', /is empty/],
    ['a later format', (good) => Buffer.concat([Buffer.from('ACCORD-BACKUP/2'), good.subarray('ACCORD-BACKUP/1'.length)]), /is in backup format 2; this version of Accord reads format 1/],
  ];
  it.each(damaged)('refuses %s with a clear message and changes nothing, even with --force', async (_name, damage, message) => {
    const target = path.join(dir, 'restored');
    const before = treeOf(target);
    const file = path.join(dir, 'damaged.backup');
    fs.writeFileSync(file, damage(fs.readFileSync(backupFile())));
    const refused = await accord(['restore', '--from', file, '--force'], { ACCORD_DATA_DIR: target });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(new RegExp(`^error: refusing to restore: the backup ${file} ${message.source}.*\\. Nothing was changed\\n$`));
    expect(treeOf(target)).toEqual(before);
  });

  it('refuses a damaged file into a directory that does not exist yet, and does not create it', async () => {
    const target = path.join(dir, 'never-made');
    const file = path.join(dir, 'truncated.backup');
    fs.writeFileSync(file, fs.readFileSync(backupFile()).subarray(0, 4096));
    expect((await accord(['restore', '--from', file], { ACCORD_DATA_DIR: target })).code).toBe(1);
    expect(fs.existsSync(target)).toBe(false);
  });

  it.each([['backup', '--out'], ['restore', '--force']])('%s --help describes the command with an example', async (command, option) => {
    const help = await accord([command, '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(option);
    expect(help.stdout).toMatch(new RegExp(`\\$ .*npx accord ${command} `));
    expect(help.stdout).toContain('Exit codes: 0');
  });

  it('points PostgreSQL users at pg_dump and pg_restore (exit 2), and refuses a backup inside the data directory', async () => {
    const postgres = { ACCORD_DATA_DIR: source, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    const backup = await accord(['backup', '--out', path.join(dir, 'pg.backup')], postgres);
    expect(backup).toMatchObject({ code: 2, stdout: '' });
    expect(backup.stderr).toMatch(/^error: accord backup is for the embedded database only, and DATABASE_URL is set: back PostgreSQL up with pg_dump .*docs\/operator\.md section 5\)\n$/);
    const restore = await accord(['restore', '--from', backupFile()], postgres);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(/^error: accord restore is for the embedded database only, and DATABASE_URL is set: restore PostgreSQL with pg_restore/);

    const inside = await accord(['backup', '--out', path.join(source, 'b.backup')], { ACCORD_DATA_DIR: source });
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/^error: --out must be outside the data directory/);
  });

  it('refuses a backup whose audit chain does not verify, after unpacking it, and leaves the data directory as it was', async () => {
    // Someone with the database's files rewrote an event (the trigger disabled, as only they can).
    const database = await openDatabase({ dataDir: source, lockOwner: 'backup test' });
    try {
      await database.db.execute(sql.raw('alter table audit_events disable trigger audit_events_no_update_delete'));
      await database.db.execute(sql.raw(`update audit_events set purpose = 'tampered' where seq = 5`));
      await database.db.execute(sql.raw('alter table audit_events enable trigger audit_events_no_update_delete'));
    } finally {
      await database.close();
    }
    const file = path.join(dir, 'tampered.backup');
    expect((await accord(['backup', '--out', file], { ACCORD_DATA_DIR: source })).code).toBe(0);

    const target = path.join(dir, 'restored');
    const before = treeOf(target);
    const refused = await accord(['restore', '--from', file, '--force'], { ACCORD_DATA_DIR: target });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\nerror: the audit chain in the backup is NOT intact: first bad seq 5 \(hash-mismatch\)/);
    expect(treeOf(target)).toEqual(before);
    expect(fs.readdirSync(target).filter((name) => name.startsWith('.accord-restore'))).toEqual([]);
  });
});
