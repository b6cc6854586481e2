import fs from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { InputError, type Problem } from '../errors.js';
import { isSigningAlgorithm, signingAlgorithms, type SigningAlgorithm } from './signing-algorithms.js';
import type { PublicJwk, PublicJwks } from './validate-public-jwks.js';

/** A kid also names the key's files, so it is limited to characters safe in any file name. */
export const generatedKidPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface SigningKey {
  /** The private JWK with `kid`, `alg` and `use: "sig"`. Keep it with the organisation; never upload it. */
  readonly privateJwk: JWK & { readonly kid: string; readonly alg: SigningAlgorithm };
  /** The public key set to register with the hub (`accord org add --jwks`). */
  readonly publicJwks: PublicJwks;
}

/**
 * Generates a signing key pair for an accepted algorithm (Ed25519 for EdDSA, P-256/P-384 for
 * ES256/ES384, 2048-bit RSA for PS256/RS256) with jose.
 *
 * @throws InputError BAD_USER_INPUT for an unaccepted algorithm or an unsafe kid.
 */
export async function generateSigningKey(options: { readonly alg: string; readonly kid: string }): Promise<SigningKey> {
  const problems: Problem[] = [];
  if (!isSigningAlgorithm(options.alg)) problems.push({ path: 'alg', reason: `must be one of ${signingAlgorithms.join(', ')}` });
  if (!generatedKidPattern.test(options.kid)) problems.push({ path: 'kid', reason: 'must be 1-128 letters, digits, dots, underscores or hyphens, starting with a letter or digit' });
  if (problems.length > 0) throw new InputError('BAD_USER_INPUT', 'cannot generate key', problems);
  const alg = options.alg as SigningAlgorithm;
  const { kid } = options;

  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const exportedPublic = await exportJWK(publicKey);
  const publicJwk: PublicJwk = { ...exportedPublic, kty: String(exportedPublic.kty), kid, alg, use: 'sig' };
  return { privateJwk, publicJwks: { keys: [publicJwk] } };
}

export interface KeyFiles {
  readonly privateKeyFile: string;
  readonly publicJwksFile: string;
}

/**
 * Writes `<kid>.private.jwk.json` (mode 0600: only its owner may read a private key) and
 * `<kid>.jwks.json` into `dir`, creating it. Existing files are never overwritten: replacing a
 * private key by accident would lock its organisation out.
 */
export async function writeKeyFiles(dir: string, key: SigningKey): Promise<KeyFiles> {
  const kid = key.privateJwk.kid;
  if (!generatedKidPattern.test(kid)) throw new TypeError(`kid ${JSON.stringify(kid)} cannot name a file`);
  await fs.mkdir(dir, { recursive: true });
  const privateKeyFile = path.join(dir, `${kid}.private.jwk.json`);
  const publicJwksFile = path.join(dir, `${kid}.jwks.json`);
  for (const file of [privateKeyFile, publicJwksFile]) {
    const exists = await fs.stat(file).then(() => true, () => false);
    if (exists) throw new InputError('BAD_USER_INPUT', 'cannot write key files', [{ path: 'out', reason: `${file} already exists; choose another kid or directory` }]);
  }
  await fs.writeFile(privateKeyFile, `${JSON.stringify(key.privateJwk, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  await fs.writeFile(publicJwksFile, `${JSON.stringify(key.publicJwks, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
  return { privateKeyFile, publicJwksFile };
}
