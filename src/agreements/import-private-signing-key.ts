import { importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { defaultAlgorithmForKey, signingAlgorithms, type SigningAlgorithm } from '../auth/index.js';
import { AccordError } from '../errors.js';

/** A party's private key, ready to sign an agreement or a revocation. */
export interface PrivateSigningKey {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  readonly key: CryptoKey | KeyObject | Uint8Array;
}

/**
 * Checks and imports an organisation's private JWK for signing. The algorithm is chosen exactly
 * as for caller tokens (`defaultAlgorithmForKey`: the key's own `alg`, else the one its type
 * implies), so one key file signs tokens, agreements and revocations alike and the hub verifies
 * them against the same allow-list. Throws `BAD_USER_INPUT` naming the problem, never the key.
 */
export async function importPrivateSigningKey(jwk: JWK): Promise<PrivateSigningKey> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new AccordError('BAD_USER_INPUT', 'the private key must be a JWK object');
  if (typeof jwk.d !== 'string') throw new AccordError('BAD_USER_INPUT', 'the key is not a private key (it has no "d")');
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw new AccordError('BAD_USER_INPUT', 'the private key has no "kid": the hub finds the public key by it');
  const alg = defaultAlgorithmForKey(jwk);
  if (alg === undefined) throw new AccordError('BAD_USER_INPUT', `the private key cannot sign with any accepted algorithm (${signingAlgorithms.join(' ')})`);
  try {
    return { alg, kid: jwk.kid, key: await importJWK({ ...jwk, alg }, alg) };
  } catch (error) {
    throw new AccordError('BAD_USER_INPUT', `the private key is not a valid ${alg} key`, { cause: error });
  }
}
