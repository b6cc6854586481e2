import { importJWK, type JWK } from 'jose';
import type { Problem } from '../errors.js';
import { algorithmsForKey, minRsaModulusBits, signingAlgorithms } from './signing-algorithms.js';

/** A public JSON Web Key as the hub stores it: always with a `kid`. */
export type PublicJwk = JWK & { readonly kid: string; readonly kty: string };

/** A validated public JSON Web Key Set. */
export interface PublicJwks {
  readonly keys: readonly PublicJwk[];
}

/** At most this many keys in one organisation's set: enough for any rotation, small enough to load every request. */
export const maxKeysPerSet = 20;
const maxKidLength = 200;

/**
 * JWK members that only private (or symmetric) keys have (RFC 7518 §6.2.2, §6.3.2, §6.4; `priv`
 * for AKP). The hub only ever needs public keys; a private key sent here would be a key the
 * organisation must now treat as leaked, so it is refused outright rather than stripped.
 */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rsaModulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start += 1;
  if (start === bytes.length) return 0;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start] ?? 0));
}

/**
 * Checks a JSON Web Key Set that an organisation registers: shape, a unique `kid` on every key,
 * a key type usable with an accepted algorithm, no private key material, and key material that
 * actually imports. Returns every problem found (paths like `jwks.keys[1].kid`), so an operator
 * can fix the file in one go.
 */
export async function validatePublicJwks(
  input: unknown,
  path = 'jwks',
): Promise<{ readonly jwks: PublicJwks | undefined; readonly problems: readonly Problem[] }> {
  const problems: Problem[] = [];
  if (!isPlainObject(input) || !Array.isArray(input.keys)) {
    const single = isPlainObject(input) && typeof input.kty === 'string';
    const secret = single && privateMembers.some((member) => Object.hasOwn(input, member));
    problems.push({
      path,
      reason: secret
        ? 'is a private key: a private key must never be uploaded; register the public key set (the .jwks.json file) instead'
        : single
          ? 'is a single JWK: a JSON Web Key Set wraps it as { "keys": [ ... ] }'
          : 'must be a JSON Web Key Set: an object { "keys": [ ...public JWKs ] }',
    });
    return { jwks: undefined, problems };
  }
  const keys: unknown[] = input.keys;
  if (keys.length === 0) problems.push({ path: `${path}.keys`, reason: 'must hold at least one key' });
  if (keys.length > maxKeysPerSet) problems.push({ path: `${path}.keys`, reason: `must hold at most ${maxKeysPerSet} keys` });

  const seenKids = new Set<string>();
  const accepted: PublicJwk[] = [];
  for (const [index, key] of keys.slice(0, maxKeysPerSet).entries()) {
    const at = `${path}.keys[${index}]`;
    const before = problems.length;
    if (!isPlainObject(key)) {
      problems.push({ path: at, reason: 'must be a JWK object' });
      continue;
    }
    const secret = privateMembers.filter((member) => Object.hasOwn(key, member));
    if (key.kty === 'oct') {
      problems.push({ path: `${at}.kty`, reason: 'symmetric (oct) keys are refused: only public keys of EdDSA, ES256, ES384, PS256 or RS256 key pairs are accepted' });
    } else if (secret.length > 0) {
      problems.push({
        path: at,
        reason: `contains private key material (${secret.join(', ')}): a private key must never be uploaded; register only the public JWKS (treat this private key as leaked and generate a new one)`,
      });
    }
    const kid = key.kid;
    if (typeof kid !== 'string' || kid.trim() === '') {
      problems.push({ path: `${at}.kid`, reason: 'is required (a non-empty string naming the key)' });
    } else if (kid.length > maxKidLength || !/^[\P{Cc}]+$/u.test(kid)) {
      problems.push({ path: `${at}.kid`, reason: `must be at most ${maxKidLength} printable characters` });
    } else if (seenKids.has(kid)) {
      problems.push({ path: `${at}.kid`, reason: `duplicates the kid "${kid}" of an earlier key in the set` });
    } else {
      seenKids.add(kid);
    }
    if (key.use !== undefined && key.use !== 'sig') problems.push({ path: `${at}.use`, reason: 'must be "sig" when present' });
    if (key.key_ops !== undefined && !(Array.isArray(key.key_ops) && key.key_ops.includes('verify'))) {
      problems.push({ path: `${at}.key_ops`, reason: 'must include "verify" when present' });
    }

    const algorithms = algorithmsForKey(key);
    if (key.kty !== 'oct' && algorithms.length === 0) {
      const declared = typeof key.alg === 'string' ? ` with alg ${JSON.stringify(key.alg.slice(0, 20))}` : '';
      problems.push({
        path: at,
        reason: `key type ${JSON.stringify(String(key.kty).slice(0, 20))}${typeof key.crv === 'string' ? ` (crv ${JSON.stringify(key.crv.slice(0, 20))})` : ''}${declared} cannot be used with any accepted algorithm (${signingAlgorithms.join(', ')}): use an OKP Ed25519, EC P-256 / P-384 or RSA key`,
      });
    }
    if (key.kty === 'RSA' && typeof key.n === 'string' && rsaModulusBits(key.n) < minRsaModulusBits) {
      problems.push({ path: `${at}.n`, reason: `RSA keys must be at least ${minRsaModulusBits} bits` });
    }
    if (problems.length > before) continue;

    // The members checked so far could still hold garbage coordinates: only a successful import
    // proves the key is usable, so a bad file fails here rather than at the first request.
    const jwk = key as PublicJwk;
    try {
      for (const alg of algorithms) await importJWK(jwk, alg);
      accepted.push(jwk);
    } catch {
      problems.push({ path: at, reason: 'key material is not a valid public key of its type' });
    }
  }
  return { jwks: problems.length === 0 ? { keys: accepted } : undefined, problems };
}
