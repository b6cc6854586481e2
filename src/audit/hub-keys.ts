/**
 * The hub's own signing key, which signs audit checkpoints (CONTRACT §7). Its public half, and
 * every retired one, is published at `GET /.well-known/jwks.json` so a partner can verify a
 * checkpoint it copied years ago.
 */
import fs from 'node:fs';
import path from 'node:path';
import { eq, isNull, and, asc } from 'drizzle-orm';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { KeyObject } from 'node:crypto';
import type { Db } from '../db/index.js';
import { hubKeys } from '../db/tables.js';
import { deriveQueryHashKey } from './query-hash.js';

export interface HubSigningKey {
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly privateKey: CryptoKey;
  /** `{ kty, crv, x, kid, alg, use }`: what is published. */
  readonly publicJwk: JWK;
  /** The audit's query-hash key, derived from this key's private bytes (query-hash.ts). */
  readonly queryHashKey: KeyObject;
}

export interface LoadHubSigningKeyOptions {
  /** The data directory; `memory://` gives a key that lives only as long as the process. */
  readonly dataDir: string;
  /** A private Ed25519 JWK file (production): used instead of the data-directory key. */
  readonly keyFile?: string | undefined;
  readonly db: Db;
  readonly clock: Clock;
}

/** Name of the generated key inside the data directory. */
export const hubKeyFileName = 'hub-signing-key.json';

async function generate(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  // RFC 7638 thumbprint: the kid names the key itself, so it cannot collide with another key.
  jwk.kid = await calculateJwkThumbprint(jwk, 'sha256');
  jwk.alg = 'EdDSA';
  return jwk;
}

async function fromPrivateJwk(jwk: JWK, source: string): Promise<HubSigningKey> {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new Error(`${source} must hold a private Ed25519 JWK (kty OKP, crv Ed25519, with d and x)`);
  }
  const publicOnly: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  const kid = typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : await calculateJwkThumbprint(publicOnly, 'sha256');
  const privateKey = (await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey;
  const queryHashKey = deriveQueryHashKey(Buffer.from(jwk.d, 'base64url'));
  return { kid, alg: 'EdDSA', privateKey, publicJwk: { ...publicOnly, kid, alg: 'EdDSA', use: 'sig' }, queryHashKey };
}

function readJwkFile(file: string): JWK {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the hub signing key ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, { cause: error });
  }
  try {
    return JSON.parse(text) as JWK;
  } catch (error) {
    // Never echo the content: it is a private key.
    throw new Error(`the hub signing key ${file} is not valid JSON`, { cause: error });
  }
}

/** Writes a private key readable by the owner only; `exclusive` refuses to overwrite one. */
function writeKeyFile(file: string, jwk: JWK, exclusive: boolean): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (exclusive) {
    fs.writeFileSync(file, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return;
  }
  // Write then rename, so a crash never leaves a half-written key in place.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  fs.renameSync(tmp, file);
}

async function publish(db: Db, key: HubSigningKey, clock: Clock): Promise<void> {
  await db
    .insert(hubKeys)
    .values({ kid: key.kid, publicJwk: key.publicJwk as Record<string, unknown>, createdAt: clock() })
    .onConflictDoNothing({ target: hubKeys.kid });
}

/**
 * Loads the hub's signing key, in order: the private JWK file `keyFile` (production; the
 * operator owns its custody), else `<dataDir>/hub-signing-key.json`, created with mode 0600 on
 * first start. Its public JWK is added to `hub_keys` (kept when already there).
 */
export async function loadHubSigningKey(options: LoadHubSigningKeyOptions): Promise<HubSigningKey> {
  let key: HubSigningKey;
  if (options.keyFile !== undefined) {
    key = await fromPrivateJwk(readJwkFile(options.keyFile), `the hub signing key ${options.keyFile}`);
  } else if (options.dataDir === 'memory://') {
    key = await fromPrivateJwk(await generate(), 'a generated key');
  } else {
    const file = path.join(options.dataDir, hubKeyFileName);
    if (!fs.existsSync(file)) {
      try {
        writeKeyFile(file, await generate(), true);
      } catch (error) {
        // Another process created it first: use theirs.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    key = await fromPrivateJwk(readJwkFile(file), `the hub signing key ${file}`);
  }
  await publish(options.db, key, options.clock);
  return key;
}

/**
 * Replaces the data-directory key with a new one: the new public key is published and the old
 * one marked retired (still published, so checkpoints it signed keep verifying). Other hub
 * instances pick the new key up when they restart. A production key file is rotated by
 * replacing the file instead.
 */
export async function rotateHubKey(options: Omit<LoadHubSigningKeyOptions, 'keyFile'>): Promise<HubSigningKey> {
  if (options.dataDir === 'memory://') throw new Error('an in-memory hub key cannot be rotated');
  const old = await loadHubSigningKey(options);
  const jwk = await generate();
  const fresh = await fromPrivateJwk(jwk, 'a generated key');
  await publish(options.db, fresh, options.clock);
  writeKeyFile(path.join(options.dataDir, hubKeyFileName), jwk, false);
  await options.db
    .update(hubKeys)
    .set({ retiredAt: options.clock() })
    .where(and(eq(hubKeys.kid, old.kid), isNull(hubKeys.retiredAt)));
  return fresh;
}

/** The JWKS of every hub public key, retired ones included, oldest first. */
export async function hubJwks(db: Db): Promise<{ keys: JWK[] }> {
  const rows = await db.select({ publicJwk: hubKeys.publicJwk }).from(hubKeys).orderBy(asc(hubKeys.createdAt), asc(hubKeys.kid));
  return { keys: rows.map((r) => r.publicJwk as JWK) };
}
