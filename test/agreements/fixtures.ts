/**
 * Shared test material: a small partnership with real key pairs (jose), the CONTRACT §3 example
 * agreement, and helpers to register the organisations and sign envelopes.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db } from '../../src/db/index.js';
import { tables } from '../../src/db/index.js';
import type { AgreementDocument, KeyLookup } from '../../src/agreements/index.js';
import { signAgreement, type AgreementEnvelope } from '../../src/agreements/index.js';

export interface OrgKey {
  readonly org: string;
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

async function makeKey(org: string, alg: 'EdDSA' | 'ES256' | 'ES384' | 'PS256' | 'RS256', kid = `${org}-1`): Promise<OrgKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return {
    org,
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg },
  };
}

export interface Partnership {
  readonly kc: OrgKey;
  readonly westminster: OrgKey;
  readonly met: OrgKey;
  readonly camden: OrgKey;
  readonly all: readonly OrgKey[];
  readonly keyFor: KeyLookup;
}

/** Four organisations, each with a key of a different accepted algorithm. */
export async function createPartnership(): Promise<Partnership> {
  const [kc, westminster, met, camden] = await Promise.all([
    makeKey('kensington-chelsea', 'EdDSA'),
    makeKey('westminster', 'ES256'),
    makeKey('met-police', 'PS256'),
    makeKey('camden', 'ES384'),
  ]);
  const all = [kc, westminster, met, camden];
  const keyFor: KeyLookup = (org, kid) => all.find((k) => k.org === org && k.kid === kid)?.publicJwk;
  return { kc, westminster, met, camden, all, keyFor };
}

/** Registers the organisations and their public keys in a test database. */
export async function registerPartnership(db: Db, partnership: Partnership): Promise<void> {
  for (const key of partnership.all) {
    await db.insert(tables.organisations).values({ id: key.org, name: key.org, kind: 'COUNCIL' }).onConflictDoNothing();
    await db.insert(tables.organisationKeys).values({ orgId: key.org, kid: key.kid, jwk: key.publicJwk as Record<string, unknown> }).onConflictDoNothing();
  }
}

export const registeredOrgs = new Set(['kensington-chelsea', 'westminster', 'met-police', 'camden']);
export const isRegisteredOrg = (id: string) => registeredOrgs.has(id);

/** The example document of CONTRACT §3. */
export function exampleDocument(overrides: Partial<Record<keyof AgreementDocument, unknown>> = {}): Record<string, unknown> {
  return {
    type: 'accord.isa/v1',
    id: 'triborough-mash-children',
    version: 1,
    title: "Tri-borough MASH: children's social care",
    provider: 'kensington-chelsea',
    recipients: [
      { org: 'westminster', roles: ['social-worker', 'safeguarding-lead'] },
      { org: 'met-police', roles: ['mash-officer'] },
    ],
    purposes: [{ code: 'safeguarding-children', description: 'Assess risk of significant harm' }],
    lawfulBasis: {
      article6: 'public-task',
      article9: 'substantial-public-interest',
      article10: 'dpa2018-sch1-pt2-para18',
      legislation: ['Children Act 1989 s47', 'Children Act 2004 s11'],
    },
    dataSubjects: ['children', 'parents-carers'],
    scope: [
      { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth', 'postcode'] },
      {
        recordType: 'SocialCareCase',
        fields: ['caseRef', 'service', 'status', 'category', 'openedOn', 'leadWorker'],
        where: { field: 'service', op: 'eq', value: 'CHILDREN' },
      },
    ],
    breakGlass: { allowed: true, roles: ['safeguarding-lead'] },
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2027-12-31T23:59:59Z',
    reviewBy: '2027-06-30',
    retention: 'P2Y',
    governance: { dpiaRef: 'DPIA-2026-014', contact: 'dpo@example.gov.uk' },
    ...overrides,
  };
}

/** Signs a document by each given party in turn, as the CLI would. */
export async function signedBy(document: unknown, ...signers: OrgKey[]): Promise<AgreementEnvelope> {
  let envelope: AgreementEnvelope | undefined;
  for (const signer of signers) {
    envelope = await signAgreement({ document, envelope, org: signer.org, privateJwk: signer.privateJwk });
  }
  if (envelope === undefined) throw new TypeError('no signers');
  return envelope;
}
