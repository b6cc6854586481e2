import type { CryptoKey, JWK, KeyObject } from 'jose';
import type { SigningAlgorithm } from '../auth/index.js';

/** A public key as the lookup returns it: a JWK from the organisation's registered set, or a key object. */
export type PublicKeyMaterial = JWK | CryptoKey | KeyObject;

/**
 * Finds the public key `kid` registered for organisation `org` (to verify algorithm `alg`, already
 * on the allow-list), or undefined when that organisation is unknown or has no such key. Only
 * keys the hub operator registered may be returned: a key taken from the signed object itself
 * would prove nothing. For a new submission or revocation return active keys only (a rotated-out
 * key may be why it was rotated); to re-verify a stored envelope later, retired keys too.
 */
export type KeyLookup = (
  org: string,
  kid: string,
  alg: SigningAlgorithm,
) => PublicKeyMaterial | undefined | Promise<PublicKeyMaterial | undefined>;
