/**
 * The JWS algorithms Accord accepts (CONTRACT §2), and which key types each one needs.
 *
 * Only asymmetric algorithms are listed. `none` would let anyone forge a token, and HMAC
 * (`HS256`...) verifies with a shared secret: a hub that accepted it would have to treat a
 * registered *public* key as that secret, and then anyone holding the public key (everyone) could
 * sign tokens with it — the classic "algorithm confusion" attack. Each key is therefore also
 * bound to the algorithms its type can actually serve, never to whatever a token header claims.
 */
export const signingAlgorithms = ['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (signingAlgorithms as readonly string[]).includes(value);
}

/** RSA keys shorter than this are refused (NIST SP 800-131A; jose enforces the same floor). */
export const minRsaModulusBits = 2048;

/** The minimal shape of a JWK this module reasons about. */
export interface JwkLike {
  readonly kty?: unknown;
  readonly crv?: unknown;
  readonly alg?: unknown;
}

/**
 * The algorithms a key can verify, from its `kty` and `crv`, narrowed to its own `alg` when it
 * declares one. Empty when the key cannot serve any accepted algorithm.
 */
export function algorithmsForKey(jwk: JwkLike): SigningAlgorithm[] {
  let byType: SigningAlgorithm[];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') byType = ['EdDSA'];
  else if (jwk.kty === 'EC' && jwk.crv === 'P-256') byType = ['ES256'];
  else if (jwk.kty === 'EC' && jwk.crv === 'P-384') byType = ['ES384'];
  else if (jwk.kty === 'RSA') byType = ['PS256', 'RS256'];
  else byType = [];
  if (jwk.alg === undefined) return byType;
  return byType.filter((alg) => alg === jwk.alg);
}

/** The algorithm to sign with: the key's own `alg`, or the one its type implies (RS256 for RSA). */
export function defaultAlgorithmForKey(jwk: JwkLike): SigningAlgorithm | undefined {
  const candidates = algorithmsForKey(jwk);
  if (jwk.alg !== undefined) return candidates[0];
  return candidates.includes('RS256') ? 'RS256' : candidates[0];
}
