import { CompactSign, type JWK } from 'jose';
import type { SigningAlgorithm } from '../auth/index.js';
import { AccordError } from '../errors.js';
import { decodeBase64url, parseJsonBytes } from './agreement-envelope.js';
import { canonicalBytes } from './canonical.js';
import { agreementIdPattern, isRfc3339, orgIdPattern } from './formats.js';
import type { KeyLookup } from './key-lookup.js';
import { importPrivateSigningKey } from './import-private-signing-key.js';
import { verifySignatureEntry } from './verify-signature-entry.js';

export const revocationType = 'accord.revocation/v1';
const maxReasonLength = 1000;
/** Bound on the compact JWS parsed before its signature is checked. */
const maxRevocationLength = 20_000;

/** The signed claims of a revocation (CONTRACT §3). */
export interface RevocationClaims {
  readonly type: typeof revocationType;
  readonly agreement: string;
  readonly version: number;
  readonly reason: string;
  /** RFC 3339: when the party decided to revoke. */
  readonly at: string;
}

export interface VerifiedRevocation extends RevocationClaims {
  /** The organisation whose key signed it. */
  readonly org: string;
  readonly kid: string;
  readonly alg: SigningAlgorithm;
}

export interface SignRevocationOptions {
  readonly agreement: string;
  readonly version: number;
  readonly reason: string;
  readonly at: Date;
  readonly org: string;
  readonly privateJwk: JWK;
}

function claimsProblem(claims: Record<string, unknown>): string | undefined {
  if (claims.type !== revocationType) return `type must be "${revocationType}"`;
  if (typeof claims.agreement !== 'string' || !agreementIdPattern.test(claims.agreement)) return 'agreement must be an agreement id';
  if (typeof claims.version !== 'number' || !Number.isInteger(claims.version) || claims.version < 1) return 'version must be a positive integer';
  if (typeof claims.reason !== 'string' || claims.reason.trim() === '' || claims.reason.length > maxReasonLength) {
    return `reason must be a non-empty string of at most ${maxReasonLength} characters`;
  }
  if (!isRfc3339(claims.at)) return 'at must be an RFC 3339 date-time';
  return undefined;
}

/** Signs a revocation of one agreement version as a compact JWS with header `{alg, kid, org}`. */
export async function signRevocation(options: SignRevocationOptions): Promise<string> {
  const { privateJwk, org } = options;
  if (!orgIdPattern.test(org)) throw new AccordError('BAD_USER_INPUT', `organisation id must match ${orgIdPattern.source}`);
  const claims: RevocationClaims = {
    type: revocationType,
    agreement: options.agreement,
    version: options.version,
    reason: options.reason,
    at: options.at.toISOString(),
  };
  const problem = claimsProblem({ ...claims });
  if (problem !== undefined) throw new AccordError('BAD_USER_INPUT', `invalid revocation: ${problem}`);
  const { alg, kid, key } = await importPrivateSigningKey(privateJwk);
  return new CompactSign(canonicalBytes(claims)).setProtectedHeader({ alg, kid, org }).sign(key);
}

/**
 * Verifies a compact-JWS revocation with the key registered for the org and kid its protected
 * header names (same algorithm allow-list and header rules as agreement signatures) and returns
 * its claims and signer. Whether that signer may revoke the agreement is the store's decision.
 * Throws `AccordError('INVALID_AGREEMENT')` naming the problem.
 */
export async function verifyRevocation(jws: unknown, options: { readonly keyFor: KeyLookup }): Promise<VerifiedRevocation> {
  if (typeof jws !== 'string' || jws.length > maxRevocationLength) throw new AccordError('INVALID_AGREEMENT', 'the revocation must be a compact JWS');
  const parts = jws.split('.');
  const [protectedHeader, payload, signature] = parts;
  if (parts.length !== 3 || protectedHeader === undefined || payload === undefined || signature === undefined) {
    throw new AccordError('INVALID_AGREEMENT', 'the revocation must be a compact JWS (three dot-separated parts)');
  }
  const signer = await verifySignatureEntry({ payload, protected: protectedHeader, signature }, options.keyFor, 'the revocation signature');
  const claims = parseJsonBytes(decodeBase64url(payload, 'the revocation payload'), 'the revocation payload');
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new AccordError('INVALID_AGREEMENT', 'the revocation payload is not a JSON object');
  const problem = claimsProblem(claims as Record<string, unknown>);
  if (problem !== undefined) throw new AccordError('INVALID_AGREEMENT', `invalid revocation: ${problem}`);
  const valid = claims as unknown as RevocationClaims;
  return {
    type: revocationType,
    agreement: valid.agreement,
    version: valid.version,
    reason: valid.reason,
    at: valid.at,
    org: signer.org,
    kid: signer.kid,
    alg: signer.alg,
  };
}
