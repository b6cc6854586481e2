/**
 * Signed checkpoints (CONTRACT §7, issue 4 item 5): what a partner copies from
 * `GET /audit/checkpoints` verifies with the keys at `GET /.well-known/jwks.json`, also after the
 * hub's key is rotated.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compactVerify, createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuditWriter,
  createCheckpointer,
  hubJwks,
  hubKeyFileName,
  listCheckpoints,
  loadHubSigningKey,
  rotateHubKey,
  verifyChain,
  type AuditCheckpoint,
  type AuditEventInput,
} from '../../src/audit/index.js';
import { systemClock } from '../../src/clock.js';
import { rowsOf, type Db } from '../../src/db/index.js';
import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { readEvent } from './helpers.js';

const clock = systemClock;

/** A READ event listing the record it released (CONTRACT §7). */
function disclosure(n: number): AuditEventInput {
  return readEvent(n, {
    records: [{ recordType: 'Demographics', recordId: `rec-${n}`, fields: ['familyName', 'givenName'], withheld: [], agreements: [{ id: 'triborough-mash-children', version: 1, payloadHash: 'ab'.repeat(32) }] }],
  });
}

async function hashAt(db: Db, seq: number): Promise<string | undefined> {
  return rowsOf<{ hash: string }>(await db.execute(sql`select hash from audit_events where seq = ${seq}`))[0]?.hash;
}

/** What a partner does with a copied checkpoint: verify it against the published JWKS alone. */
async function verifyAsPartner(checkpoint: Pick<AuditCheckpoint, 'jws'>, jwks: { keys: JWK[] }) {
  const { payload, protectedHeader } = await compactVerify(checkpoint.jws, createLocalJWKSet(jwks), { algorithms: ['EdDSA'] });
  return { payload: JSON.parse(new TextDecoder().decode(payload)) as { seq: number; hash: string; at: string }, protectedHeader };
}

describe('signed audit checkpoints', { timeout: 60_000 }, () => {
  let testDb: TestDatabase;
  let db: Db;
  let dataDir: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = testDb.db;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-checkpoints-'));
  });
  afterAll(async () => {
    await testDb.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the hub key on first start, owner-readable only, and publishes only its public half', async () => {
    const key = await loadHubSigningKey({ dataDir, db, clock });
    const file = path.join(dataDir, hubKeyFileName);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadHubSigningKey({ dataDir, db, clock })).kid).toBe(key.kid);
    const jwks = await hubJwks(db);
    expect(jwks.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String) as string, kid: key.kid, alg: 'EdDSA', use: 'sig' }]);
    expect(JSON.stringify(jwks)).not.toContain('"d"');
  });

  it('signs {seq, hash, at} every N events; each verifies with the JWKS and names the chain hash at its seq', async () => {
    const key = await loadHubSigningKey({ dataDir, db, clock });
    const checkpointer = createCheckpointer(db, { key, everyEvents: 5, intervalMs: 3_600_000, clock });
    const writer = createAuditWriter(db, { clock, onCommitted: (seq, hash, count) => checkpointer.notify(seq, hash, count) });
    for (let n = 1; n <= 12; n += 1) await writer.append([disclosure(n)]);
    await writer.close();
    await checkpointer.stop();

    const checkpoints = await listCheckpoints(db);
    expect(checkpoints.map((c) => c.seq)).toEqual([5, 10]);
    const jwks = await hubJwks(db);
    for (const checkpoint of checkpoints) {
      const { payload, protectedHeader } = await verifyAsPartner(checkpoint, jwks);
      expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'accord-checkpoint+jws' });
      expect(payload).toEqual({ seq: checkpoint.seq, hash: await hashAt(db, checkpoint.seq), at: checkpoint.at.toISOString() });
    }
  });

  it('a copied checkpoint whose payload was altered does not verify', async () => {
    const [checkpoint] = await listCheckpoints(db);
    const [header, payload, signature] = (checkpoint?.jws ?? '').split('.');
    const decoded = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { seq: number; hash: string; at: string };
    const altered = Buffer.from(JSON.stringify({ ...decoded, hash: 'f'.repeat(64) })).toString('base64url');
    await expect(verifyAsPartner({ jws: `${header}.${altered}.${signature}` }, await hubJwks(db))).rejects.toThrow(/signature verification failed/);
  });

  it('signs every T milliseconds when the chain has grown, and not when it has not', async () => {
    const key = await loadHubSigningKey({ dataDir, db, clock });
    const checkpointer = createCheckpointer(db, { key, everyEvents: 1_000_000, intervalMs: 50, clock });
    const writer = createAuditWriter(db, { clock });
    await writer.append([disclosure(13), disclosure(14)]);
    const deadline = Date.now() + 5_000;
    while ((await listCheckpoints(db)).at(-1)?.seq !== 14 && Date.now() < deadline) await sleep(25);
    expect((await listCheckpoints(db)).map((c) => c.seq)).toEqual([5, 10, 14]);
    await sleep(300);
    expect((await listCheckpoints(db)).map((c) => c.seq)).toEqual([5, 10, 14]);
    await writer.close();
    await checkpointer.stop();
  });

  it('two hub instances asked to sign the same head keep one checkpoint', async () => {
    const key = await loadHubSigningKey({ dataDir, db, clock });
    const other = await testDb.reopen();
    const writer = createAuditWriter(db, { clock });
    await writer.append([disclosure(15)]);
    await writer.close();
    const one = createCheckpointer(db, { key, everyEvents: 1_000_000, intervalMs: 3_600_000, clock });
    const two = createCheckpointer(other.db, { key, everyEvents: 1_000_000, intervalMs: 3_600_000, clock });
    await Promise.all([one.checkpointNow(), two.checkpointNow()]);
    await Promise.all([one.stop(), two.stop()]);
    // PGlite hands back the same handle: close only a second pool.
    if (testDb.url !== undefined) await other.close();
    expect((await listCheckpoints(db)).map((c) => c.seq)).toEqual([5, 10, 14, 15]);
  });

  it('after a key rotation both keys stay published: old and new checkpoints verify, and so does the chain', async () => {
    const old = await loadHubSigningKey({ dataDir, db, clock });
    const fresh = await rotateHubKey({ dataDir, db, clock });
    expect(fresh.kid).not.toBe(old.kid);
    expect((await loadHubSigningKey({ dataDir, db, clock })).kid).toBe(fresh.kid);

    const checkpointer = createCheckpointer(db, { key: fresh, everyEvents: 1_000_000, intervalMs: 3_600_000, clock });
    const writer = createAuditWriter(db, { clock });
    await writer.append([disclosure(16)]);
    await writer.close();
    await checkpointer.checkpointNow();
    await checkpointer.stop();

    const jwks = await hubJwks(db);
    expect(jwks.keys.map((k) => k.kid)).toEqual([old.kid, fresh.kid]);
    const kids = [];
    for (const checkpoint of await listCheckpoints(db)) kids.push((await verifyAsPartner(checkpoint, jwks)).protectedHeader.kid);
    expect(kids).toEqual([old.kid, old.kid, old.kid, old.kid, fresh.kid]);
    expect(await verifyChain(db)).toMatchObject({ intact: true, headSeq: 16, checkpointsChecked: 5 });
  });

  it('uses an operator-supplied key file instead of the data directory (production)', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const keyFile = path.join(dataDir, 'operator-key.json');
    fs.writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'hub-2026-ops' }), { mode: 0o600 });
    const key = await loadHubSigningKey({ dataDir: path.join(dataDir, 'unused'), keyFile, db, clock });
    expect(key.kid).toBe('hub-2026-ops');
    expect(fs.existsSync(path.join(dataDir, 'unused', hubKeyFileName))).toBe(false);
    expect((await hubJwks(db)).keys.map((k) => k.kid)).toContain('hub-2026-ops');
  });

  it.each([
    ['not JSON', 'not json', /not valid JSON/],
    ['an RSA key', JSON.stringify({ kty: 'RSA', n: 'x', e: 'AQAB' }), /private Ed25519 JWK/],
    ['a public key only', JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'x' }), /private Ed25519 JWK/],
  ])('refuses a key file that is %s, without echoing it', async (_, content, message) => {
    const keyFile = path.join(dataDir, 'bad-key.json');
    fs.writeFileSync(keyFile, content);
    const error = await loadHubSigningKey({ dataDir, keyFile, db, clock }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain(content);
  });
});
