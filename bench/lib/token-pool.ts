/**
 * Real caller tokens. Each `jti` is single-use (the hub refuses a replay), so every request of
 * an accord run needs its own token.
 *
 * - `mintTokens`: a pool minted before a run (while the servers are idle, so minting never
 *   competes with the measurement for CPU), hence one pool per run: tokens live 300 s.
 * - `createTokenSigner`: one fresh token per call, for runs longer than a token's lifetime
 *   (--soak, the load-balancer check), at a rate where signing costs the load generator little.
 *
 * The claims and header are exactly those of `signCallerToken` (src/auth/sign-token.ts); the
 * private key is imported once per pool or signer instead of once per token, which makes minting
 * about three times faster. The hub verifies every one of them in full.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { defaultAlgorithmForKey, tokenMaxLifetimeSeconds } from '../../src/auth/index.js';
import type { Clock } from '../../src/clock.js';
import type { Identity } from './partnership.js';

/**
 * The hub's id, the `aud` of the tokens the comparison mints: the hub gets it as ACCORD_HUB_ID
 * (its default) and the hand-rolled peer checks `aud` against it, so both accept the very same
 * tokens.
 */
export const benchHubId = 'accord-hub';

export interface TokenPool {
  readonly size: number;
  /** The next unused token, or undefined when the pool is spent. */
  next(): string | undefined;
  readonly used: number;
}

/** Signs a fresh token (new jti, issued now) for `identity` at each call. */
export type TokenSigner = () => Promise<string>;

export async function createTokenSigner(identity: Identity, options: { hubId: string; clock: Clock }): Promise<TokenSigner> {
  const alg = defaultAlgorithmForKey(identity.privateJwk as never);
  if (alg === undefined) throw new TypeError(`no signing algorithm for ${identity.org}'s key`);
  const key = await importJWK(identity.privateJwk, alg);
  const claims = { purpose: identity.purpose, roles: [...identity.roles] };
  return () => {
    const issuedAt = Math.floor(options.clock().getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg, kid: identity.privateJwk.kid as string, typ: 'JWT' })
      .setIssuer(identity.org)
      .setSubject(identity.sub)
      .setAudience(options.hubId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + tokenMaxLifetimeSeconds)
      .setJti(randomUUID())
      .sign(key);
  };
}

export async function mintTokens(identity: Identity, count: number, options: { hubId: string; clock: Clock }): Promise<TokenPool> {
  const sign = await createTokenSigner(identity, options);
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 2000) {
    tokens.push(...(await Promise.all(Array.from({ length: Math.min(2000, count - i) }, sign))));
  }
  let index = 0;
  return {
    size: tokens.length,
    next: () => (index < tokens.length ? tokens[index++] : undefined),
    get used() {
      return index;
    },
  };
}
