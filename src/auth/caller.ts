/**
 * The verified caller of one request, built from its token (CONTRACT §2). Nothing in it is
 * trusted unless the token's signature verified with a key registered for `org`.
 */
export interface Caller {
  /** The organisation (`iss`). */
  readonly org: string;
  /** The person or system acting (`sub`), kept in the audit trail. */
  readonly sub: string;
  readonly roles: readonly string[];
  readonly purpose: string;
  readonly caseRef: string | undefined;
  /** Present only when the token carries a break-glass claim with a reason of 20+ characters. */
  readonly breakGlass: { readonly reason: string } | undefined;
  readonly jti: string;
  /** The signing key's `kid`. */
  readonly kid: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** The organisation id of the hub operator (CONTRACT §2). */
export const hubOrgId = 'hub';

export function hasRole(caller: Caller, role: string): boolean {
  return caller.roles.includes(role);
}

/** Operator-only operations: a caller of the `hub` organisation with role `hub-admin`. */
export function isHubAdmin(caller: Caller): boolean {
  return caller.org === hubOrgId && hasRole(caller, 'hub-admin');
}
