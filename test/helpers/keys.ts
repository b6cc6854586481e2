/**
 * Real keys and real tokens for tests: `makeOrg` generates a key pair, registers the organisation
 * and mints valid tokens for it. Override or remove (`undefined`) any claim to build bad tokens.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import { systemClock, type Clock } from '../../src/clock.js';
import type { Db } from '../../src/db/index.js';
import { generateSigningKey, registerOrganisation, type OrganisationKind, type PublicJwks, type SigningAlgorithm } from '../../src/auth/index.js';

export const testHubId = 'accord-hub';

export interface MakeOrgOptions {
  readonly kind?: OrganisationKind;
  readonly alg?: SigningAlgorithm;
  readonly name?: string;
  /** Default `<id>-key-1`. */
  readonly kid?: string;
  /** The `aud` of minted tokens (default 'accord-hub'). */
  readonly hubId?: string;
  /** The clock minted tokens take `iat` from (default the system clock). */
  readonly clock?: Clock;
}

export interface TokenOptions {
  /** Protected-header members to add or override (`undefined` removes one, e.g. `{ kid: undefined }`). */
  readonly header?: Record<string, unknown>;
  /** Sign with this private JWK instead of the organisation's own. */
  readonly privateJwk?: JWK;
}

export interface TestOrg {
  readonly id: string;
  readonly kid: string;
  readonly privateJwk: JWK & { readonly kid: string; readonly alg: SigningAlgorithm };
  readonly publicJwks: PublicJwks;
  /**
   * A fresh valid token (new jti) with defaults sub `user@<id>`, purpose `safeguarding-children`,
   * roles `['social-worker']`, lifetime 300 s. `claims` override them; `undefined` removes one.
   */
  token(claims?: Record<string, unknown>, options?: TokenOptions): Promise<string>;
}

function withoutUndefined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

/** Signs arbitrary claims and header with a real private key: for building bad tokens on purpose. */
export async function signRaw(privateJwk: JWK, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const alg = (header.alg ?? privateJwk.alg) as string;
  const key = await importJWK(privateJwk, alg);
  const protectedHeader = withoutUndefined({ alg, kid: privateJwk.kid, typ: 'JWT', ...header });
  return await new SignJWT(withoutUndefined(claims)).setProtectedHeader(protectedHeader as { alg: string }).sign(key);
}

export async function makeOrg(db: Db, id: string, options: MakeOrgOptions = {}): Promise<TestOrg> {
  const kid = options.kid ?? `${id}-key-1`;
  const clock = options.clock ?? systemClock;
  const hubId = options.hubId ?? testHubId;
  const { privateJwk, publicJwks } = await generateSigningKey({ alg: options.alg ?? 'EdDSA', kid });
  await registerOrganisation(db, { id, name: options.name ?? `Organisation ${id}`, kind: options.kind ?? 'COUNCIL', jwks: publicJwks }, clock);
  return {
    id,
    kid,
    privateJwk,
    publicJwks,
    async token(claims = {}, tokenOptions = {}) {
      const iat = Math.floor(clock().getTime() / 1000);
      const all = {
        iss: id,
        sub: `user@${id}`,
        aud: hubId,
        iat,
        exp: iat + 300,
        jti: randomUUID(),
        purpose: 'safeguarding-children',
        roles: ['social-worker'],
        ...claims,
      };
      return await signRaw(tokenOptions.privateJwk ?? privateJwk, all, tokenOptions.header);
    },
  };
}
