import { flattenedVerify, importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { AccordError } from '../errors.js';
import { decodeBase64url, parseJsonBytes } from './agreement-envelope.js';
import { orgIdPattern } from './formats.js';
import type { KeyLookup, PublicKeyMaterial } from './key-lookup.js';
import { isSigningAlgorithm, signingAlgorithms, type SigningAlgorithm } from '../auth/index.js';

/** Protected header members accepted; anything else (crit, b64, jku, jwk, x5u, x5c...) is refused. */
const allowedHeaderMembers = new Set(['alg', 'kid', 'org', 'typ']);

export interface VerifiedSignature {
  readonly org: string;
  readonly kid: string;
  readonly alg: SigningAlgorithm;
}

function isJwk(key: PublicKeyMaterial): key is JWK {
  return typeof key === 'object' && key !== null && 'kty' in key && typeof (key as { kty: unknown }).kty === 'string';
}

/**
 * Reads and checks a protected header: `alg` on the allow-list, `kid`, `org`, nothing that
 * would change how the signature is computed (`crit`, `b64`) or where its key comes from
 * (`jku`, `jwk`, `x5u`, `x5c`): the key always comes from the hub's registry.
 */
export function readProtectedHeader(encoded: string, what: string): VerifiedSignature {
  const header = parseJsonBytes(decodeBase64url(encoded, `${what} protected header`), `${what} protected header`);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new AccordError('INVALID_AGREEMENT', `${what} protected header is not a JSON object`);
  const fields = header as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!allowedHeaderMembers.has(key)) throw new AccordError('INVALID_AGREEMENT', `${what} protected header has a member that is not accepted: ${JSON.stringify(key.slice(0, 64))}`);
  }
  if (!isSigningAlgorithm(fields.alg)) {
    throw new AccordError('INVALID_AGREEMENT', `${what} uses an algorithm that is not accepted (use one of ${signingAlgorithms.join(' ')})`);
  }
  if (typeof fields.kid !== 'string' || fields.kid === '' || fields.kid.length > 200) throw new AccordError('INVALID_AGREEMENT', `${what} protected header has no kid`);
  if (typeof fields.org !== 'string' || !orgIdPattern.test(fields.org)) throw new AccordError('INVALID_AGREEMENT', `${what} protected header has no valid org`);
  return { org: fields.org, kid: fields.kid, alg: fields.alg };
}

/**
 * Verifies one JWS signature (RFC 7515 flattened form) with the key registered for the org and
 * kid its protected header names, and returns who signed. Throws `INVALID_AGREEMENT` naming the
 * problem: unknown key, a key that cannot verify this algorithm, or a signature that does not
 * verify.
 */
export async function verifySignatureEntry(
  jws: { payload: string; protected: string; signature: string },
  keyFor: KeyLookup,
  what: string,
): Promise<VerifiedSignature> {
  const signer = readProtectedHeader(jws.protected, what);
  const material = await keyFor(signer.org, signer.kid, signer.alg);
  if (material === undefined) {
    throw new AccordError('INVALID_AGREEMENT', `${what}: organisation ${signer.org} has no registered key ${JSON.stringify(signer.kid)}`);
  }
  let key: CryptoKey | KeyObject | Uint8Array;
  try {
    key = isJwk(material) ? await importJWK(material, signer.alg) : material;
  } catch (error) {
    throw new AccordError('INVALID_AGREEMENT', `${what}: key ${JSON.stringify(signer.kid)} of ${signer.org} cannot verify ${signer.alg}`, { cause: error });
  }
  try {
    // One signature at a time with exactly one algorithm allowed: the one the header names,
    // already checked against the allow-list, so the key cannot be used with another.
    await flattenedVerify(jws, key, { algorithms: [signer.alg] });
  } catch (error) {
    throw new AccordError('INVALID_AGREEMENT', `${what} (organisation ${signer.org}, key ${JSON.stringify(signer.kid)}) does not verify`, { cause: error });
  }
  return signer;
}
