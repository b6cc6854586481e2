import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import { InputError, type Problem } from '../errors.js';
import { defaultAlgorithmForKey, signingAlgorithms } from './signing-algorithms.js';
import { breakGlassMinReasonLength, tokenMaxLifetimeSeconds } from './verify-token.js';

export interface SignCallerTokenOptions {
  /** The organisation id (`iss`). */
  readonly org: string;
  /** The organisation's private JWK; it must carry `kid` (and `alg`, or a key type that implies one). */
  readonly privateJwk: JWK;
  readonly sub: string;
  readonly purpose: string;
  readonly roles: readonly string[];
  /** Default and maximum: 300 (CONTRACT §2). */
  readonly ttlSeconds?: number;
  readonly caseRef?: string | undefined;
  /** The break-glass reason (at least 20 characters). */
  readonly breakGlass?: string | undefined;
  /** The hub id (`aud`). */
  readonly hubId: string;
  readonly clock: Clock;
  /** Default: a random UUID. */
  readonly jti?: string;
}

/**
 * Mints a caller token (CONTRACT §2) signed with an organisation's private key: for the CLI
 * (`accord token`), the sandbox's persona tokens and tests. The `kid` comes from the JWK and the
 * algorithm from its `alg` (or, when absent, from its key type).
 *
 * @throws InputError BAD_USER_INPUT listing every problem with the options.
 */
export async function signCallerToken(options: SignCallerTokenOptions): Promise<string> {
  const problems: Problem[] = [];
  const jwk = options.privateJwk as JWK & Record<string, unknown>;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new InputError('BAD_USER_INPUT', 'invalid token request', [{ path: 'key', reason: 'must be a private JWK object' }]);
  }
  const ttlSeconds = options.ttlSeconds ?? tokenMaxLifetimeSeconds;
  if (typeof jwk.d !== 'string') problems.push({ path: 'key', reason: 'is not a private key (it has no "d" member): pass the .private.jwk.json file' });
  if (typeof jwk.kid !== 'string' || jwk.kid === '') problems.push({ path: 'key.kid', reason: 'is required: the hub finds the verification key by it' });
  const alg = defaultAlgorithmForKey(jwk);
  if (alg === undefined) problems.push({ path: 'key', reason: `cannot sign with any accepted algorithm (${signingAlgorithms.join(', ')})` });
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > tokenMaxLifetimeSeconds) {
    problems.push({ path: 'ttl', reason: `must be a whole number of seconds from 1 to ${tokenMaxLifetimeSeconds}` });
  }
  if (options.org.trim() === '') problems.push({ path: 'org', reason: 'is required' });
  if (options.sub.trim() === '') problems.push({ path: 'sub', reason: 'is required' });
  if (options.purpose.trim() === '') problems.push({ path: 'purpose', reason: 'is required' });
  if (options.roles.some((role) => role.trim() === '')) problems.push({ path: 'roles', reason: 'must not contain empty role codes' });
  if (options.breakGlass !== undefined && options.breakGlass.trim().length < breakGlassMinReasonLength) {
    problems.push({ path: 'breakGlass', reason: `the reason must be at least ${breakGlassMinReasonLength} characters` });
  }
  if (problems.length > 0 || alg === undefined) throw new InputError('BAD_USER_INPUT', 'invalid token request', problems);

  let key: CryptoKey | Uint8Array;
  try {
    key = await importJWK({ ...jwk, alg }, alg);
  } catch {
    throw new InputError('BAD_USER_INPUT', 'invalid token request', [{ path: 'key', reason: `is not a valid private key for ${alg}` }]);
  }
  const issuedAt = Math.floor(options.clock().getTime() / 1000);
  const claims: Record<string, unknown> = { purpose: options.purpose, roles: [...options.roles] };
  if (options.caseRef !== undefined) claims.case_ref = options.caseRef;
  if (options.breakGlass !== undefined) claims.break_glass = { reason: options.breakGlass.trim() };
  return await new SignJWT(claims)
    .setProtectedHeader({ alg, kid: jwk.kid as string, typ: 'JWT' })
    .setIssuer(options.org)
    .setSubject(options.sub)
    .setAudience(options.hubId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .setJti(options.jti ?? randomUUID())
    .sign(key);
}
