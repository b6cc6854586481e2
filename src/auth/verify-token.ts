import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { isDatabaseUnavailable } from '../db/index.js';
import { AccordError } from '../errors.js';
import type { Caller } from './caller.js';
import type { OrganisationKeyStore } from './key-store.js';
import type { ReplayGuard } from './replay-guard.js';
import { isSigningAlgorithm, signingAlgorithms } from './signing-algorithms.js';

/** CONTRACT §2: a token lives at most this long (`exp - iat`). */
export const tokenMaxLifetimeSeconds = 300;
/** CONTRACT §2: clocks of partners and hub may disagree by this much. */
export const clockSkewSeconds = 30;

/** The 401 message of a token whose `jti` was used before. */
export const tokenReplayedMessage = 'token has already been used (its jti was seen before)';
/** Larger tokens are refused before any parsing, so a huge header cannot cost the hub work. */
export const tokenMaxBytes = 8192;
/** CONTRACT §2 / §4. */
export const breakGlassMinReasonLength = 20;
const maxClaimLength = 200;
const maxRoles = 50;
const maxBreakGlassReasonLength = 2000;

export interface VerifyTokenOptions {
  readonly keys: Pick<OrganisationKeyStore, 'hasOrganisation' | 'getKey'>;
  /** The expected `aud`. */
  readonly hubId: string;
  readonly clock: Clock;
  readonly replay: ReplayGuard;
}

/**
 * Every failure is this error. Its message says what was wrong in the hub's own words; it never
 * repeats the token or its unverified claims, which a client could otherwise use to reflect
 * content into responses and logs.
 */
function unauthenticated(reason: string, cause?: unknown): AccordError {
  return new AccordError('UNAUTHENTICATED', reason, cause === undefined ? undefined : { cause });
}

const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Shown back only when it is plainly an algorithm name, so nothing else of the token is echoed. */
const algorithmName = /^[A-Za-z0-9+-]{1,16}$/;

function isNonEmptyString(value: unknown, maxLength = maxClaimLength): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= maxLength;
}

/** Turns jose's errors (thrown by jwtVerify after our own checks) into UNAUTHENTICATED reasons. */
function fromJose(error: unknown): AccordError {
  if (error instanceof AccordError) return error;
  if (error instanceof errors.JWTExpired) return unauthenticated('token has expired', error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (error.reason === 'missing') return unauthenticated(`token has no ${claim} claim`, error);
    if (claim === 'aud') return unauthenticated('token audience (aud) is not this hub', error);
    if (claim === 'nbf') return unauthenticated('token is not valid yet (nbf is in the future)', error);
    if (claim === 'iat' || claim === 'exp') return unauthenticated(`token ${claim} claim must be a number (seconds since the epoch)`, error);
    return unauthenticated(`token ${claim} claim is invalid`, error);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthenticated('token signature does not verify with the registered key', error);
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthenticated('token algorithm is not accepted', error);
  if (error instanceof errors.JOSEError) return unauthenticated('token is malformed', error);
  return unauthenticated('token could not be verified', error);
}

/**
 * Verifies a caller's bearer token exactly as CONTRACT §2 requires and returns the caller.
 *
 * Order matters: cheap structural checks first; then the issuer and key (from memory, see
 * key-store.ts); then the signature; only then the claims, and the replay check last. The `jti`
 * is claimed only once the request has run (with its audit events), so a forged or invalid token
 * can never use up a genuine token's `jti`.
 *
 * @throws AccordError UNAUTHENTICATED naming what was wrong.
 */
export async function verifyToken(token: string, options: VerifyTokenOptions): Promise<Caller> {
  if (typeof token !== 'string' || token === '') throw unauthenticated('no token given');
  if (token.length > tokenMaxBytes) throw unauthenticated(`token is larger than ${tokenMaxBytes} bytes`);
  if (!compactJws.test(token)) throw unauthenticated('token is malformed: expected a compact JWS (three base64url parts separated by dots)');

  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw unauthenticated('token is malformed: its header is not base64url-encoded JSON', error);
  }
  // Refused before any key is looked up. `none` would need no signature at all; HMAC would make
  // the hub use a registered *public* key as the HMAC secret, so anyone could forge tokens
  // (algorithm confusion). jwtVerify below enforces the same list again.
  if (!isSigningAlgorithm(header.alg)) {
    const named = typeof header.alg === 'string' && algorithmName.test(header.alg) ? ` "${header.alg}"` : '';
    throw unauthenticated(`token algorithm${named} is not accepted (accepted: ${signingAlgorithms.join(', ')})`);
  }
  const alg = header.alg;
  if (!isNonEmptyString(header.kid)) throw unauthenticated('token header has no kid: the hub needs it to choose the signing key');
  const kid = header.kid;
  try {
    unverified = decodeJwt(token);
  } catch (error) {
    throw unauthenticated('token is malformed: its payload is not a base64url-encoded JSON object', error);
  }

  // The issuer is read before verification only to choose the key; the signature then proves it,
  // because only that organisation's registered keys are ever tried.
  const iss = unverified.iss;
  if (iss === undefined) throw unauthenticated('token has no iss claim');
  if (!isNonEmptyString(iss) || !(await options.keys.hasOrganisation(iss))) throw unauthenticated('token issuer (iss) is not a registered organisation');

  const now = options.clock();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      async () => {
        const key = await options.keys.getKey(iss, kid, { alg });
        if (key === undefined) throw unauthenticated(`organisation "${iss}" has no active key with this kid for ${alg}`);
        return key;
      },
      {
        algorithms: [...signingAlgorithms],
        audience: options.hubId,
        requiredClaims: ['aud', 'iat', 'exp'],
        clockTolerance: clockSkewSeconds,
        currentDate: now,
      },
    ));
  } catch (error) {
    // An outage while looking up the key is not the caller's fault: it must surface as 503
    // SERVICE_UNAVAILABLE, not as a 401 telling a partner its valid token is bad.
    if (isDatabaseUnavailable(error)) throw error;
    throw fromJose(error);
  }

  const iat = payload.iat as number;
  const exp = payload.exp as number;
  const nowSeconds = now.getTime() / 1000;
  if (iat > nowSeconds + clockSkewSeconds) throw unauthenticated(`token was issued in the future (iat is more than ${clockSkewSeconds} s ahead of the hub's clock)`);
  if (exp <= iat) throw unauthenticated('token expires before it was issued (exp <= iat)');
  if (exp - iat > tokenMaxLifetimeSeconds) throw unauthenticated(`token lifetime (exp - iat) exceeds ${tokenMaxLifetimeSeconds} seconds`);

  const { jti, sub } = payload;
  if (jti === undefined) throw unauthenticated('token has no jti claim');
  if (!isNonEmptyString(jti)) throw unauthenticated(`token jti claim must be a non-empty string of at most ${maxClaimLength} characters`);
  if (sub === undefined) throw unauthenticated('token has no sub claim');
  if (!isNonEmptyString(sub)) throw unauthenticated(`token sub claim must be a non-empty string of at most ${maxClaimLength} characters`);

  const { purpose, roles, case_ref: caseRef, break_glass: breakGlass } = payload;
  if (purpose === undefined) throw unauthenticated('token has no purpose claim');
  if (!isNonEmptyString(purpose)) throw unauthenticated(`token purpose claim must be a non-empty string of at most ${maxClaimLength} characters`);
  if (roles === undefined) throw unauthenticated('token has no roles claim');
  if (!Array.isArray(roles) || roles.length > maxRoles || !roles.every((role) => isNonEmptyString(role))) {
    throw unauthenticated(`token roles claim must be an array of at most ${maxRoles} non-empty strings`);
  }
  if (caseRef !== undefined && !isNonEmptyString(caseRef)) throw unauthenticated(`token case_ref claim must be a non-empty string of at most ${maxClaimLength} characters`);
  let breakGlassReason: string | undefined;
  if (breakGlass !== undefined) {
    const reason = typeof breakGlass === 'object' && breakGlass !== null && !Array.isArray(breakGlass) ? (breakGlass as { reason?: unknown }).reason : undefined;
    if (typeof reason !== 'string') throw unauthenticated('token break_glass claim must be an object { "reason": "..." }');
    if (reason.trim().length < breakGlassMinReasonLength) throw unauthenticated(`token break_glass reason must be at least ${breakGlassMinReasonLength} characters`);
    if (reason.length > maxBreakGlassReasonLength) throw unauthenticated(`token break_glass reason must be at most ${maxBreakGlassReasonLength} characters`);
    breakGlassReason = reason.trim();
  }

  // Only this instance's memory is asked here (no round trip): the id is claimed for good in the
  // statement that commits the request's audit events, and a replay that gets this far is
  // refused there, before anything is released (src/audit/audit-writer.ts).
  if (options.replay.seen(iss, jti)) throw unauthenticated(tokenReplayedMessage);

  return Object.freeze({
    org: iss,
    sub,
    roles: Object.freeze([...(roles as string[])]),
    purpose,
    caseRef: caseRef as string | undefined,
    breakGlass: breakGlassReason === undefined ? undefined : Object.freeze({ reason: breakGlassReason }),
    jti,
    kid,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
  });
}
