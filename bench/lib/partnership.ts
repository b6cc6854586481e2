/**
 * The partnership the benchmark runs against, built through the hub's own code paths:
 * organisations registered with freshly generated Ed25519 keys, agreements signed by every
 * party with those keys and submitted to the real agreement store (which verifies every
 * signature). The private keys stay in the load generator's memory for minting tokens.
 */
import type { JWK } from 'jose';
import { createAgreementStore, signAgreement, type AgreementDocument, type KeyLookup } from '../../src/agreements/index.js';
import { createOrganisationKeyStore, generateSigningKey, registerOrganisation, type OrganisationKind } from '../../src/auth/index.js';
import type { Clock } from '../../src/clock.js';
import type { Db } from '../../src/db/index.js';

/** Who calls the hub in each scenario. */
export interface Identity {
  readonly org: string;
  readonly privateJwk: JWK;
  readonly sub: string;
  readonly purpose: string;
  readonly roles: readonly string[];
}

export interface Partnership {
  readonly keys: Map<string, JWK>;
  /** A Westminster social worker reading for safeguarding-children (scenarios a, b, d and the reads of c). */
  readonly reader: Identity;
  /** Kensington & Chelsea's case system publishing its own records (the writes of c). */
  readonly publisher: Identity;
  /** The hub operator's admin (subject access reports in --scale). */
  readonly hubAdmin: Identity;
  /** Kensington & Chelsea's DPO (subject access reports scoped to one organisation). */
  readonly dpo: Identity;
  readonly store: ReturnType<typeof createAgreementStore>;
}

export const organisations: readonly { id: string; name: string; kind: OrganisationKind }[] = [
  { id: 'kensington-chelsea', name: 'Kensington and Chelsea (bench)', kind: 'COUNCIL' },
  { id: 'westminster', name: 'Westminster (bench)', kind: 'COUNCIL' },
  { id: 'hammersmith-fulham', name: 'Hammersmith and Fulham (bench)', kind: 'COUNCIL' },
  { id: 'met-police', name: 'Metropolitan Police (bench)', kind: 'POLICE' },
  { id: 'imperial-nhs', name: 'Imperial NHS Trust (bench)', kind: 'NHS_TRUST' },
  { id: 'triborough-schools', name: 'Tri-borough Schools (bench)', kind: 'SCHOOL' },
  { id: 'hub', name: 'Hub operator (bench)', kind: 'OTHER' },
];

export const readerPurpose = 'safeguarding-children';

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The agreements Westminster's reader relies on: every record type, two with `where` conditions. */
export function partnershipAgreements(now: Date): AgreementDocument[] {
  const year = 365 * 24 * 3600 * 1000;
  const common = {
    type: 'accord.isa/v1' as const,
    version: 1,
    purposes: [{ code: readerPurpose, description: 'Assess and act on risk of significant harm to a child' }],
    dataSubjects: ['children'],
    validFrom: new Date(now.getTime() - year).toISOString(),
    validUntil: new Date(now.getTime() + 2 * year).toISOString(),
    reviewBy: isoDay(new Date(now.getTime() + year)),
    retention: 'P2Y',
  };
  const westminster = [{ org: 'westminster', roles: ['social-worker', 'safeguarding-lead'] }];
  return [
    {
      ...common,
      id: 'bench-rbkc-children',
      title: 'RBKC to Westminster: children at risk',
      provider: 'kensington-chelsea',
      recipients: westminster,
      lawfulBasis: { article6: 'public-task', article9: 'substantial-public-interest', legislation: ['Children Act 1989 s47'] },
      scope: [
        { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth', 'postcode', 'addressLine'] },
        {
          recordType: 'SocialCareCase',
          fields: ['caseRef', 'service', 'status', 'category', 'openedOn', 'closedOn', 'leadWorker', 'summary'],
          where: { field: 'service', op: 'eq', value: 'CHILDREN' },
        },
        { recordType: 'HousingTenancy', fields: ['tenancyRef', 'addressLine', 'postcode', 'startedOn', 'endedOn', 'rentArrears'] },
      ],
      breakGlass: { allowed: true, roles: ['safeguarding-lead'] },
    },
    {
      ...common,
      id: 'bench-police-notifications',
      title: 'Police notifications to Westminster',
      provider: 'met-police',
      recipients: westminster,
      lawfulBasis: { article6: 'public-task', article10: 'dpa2018-sch1-pt2-para18', legislation: ['Children Act 2004 s11'] },
      scope: [{ recordType: 'PoliceNotification', fields: ['reference', 'kind', 'occurredOn', 'riskLevel', 'summary'] }],
    },
    {
      ...common,
      id: 'bench-gp-registrations',
      title: 'GP registrations to Westminster',
      provider: 'imperial-nhs',
      recipients: westminster,
      lawfulBasis: { article6: 'public-task', article9: 'health-or-social-care', legislation: ['Children Act 2004 s11'] },
      scope: [{ recordType: 'GpRegistration', fields: ['practiceOdsCode', 'practiceName', 'registeredOn'] }],
    },
    {
      ...common,
      id: 'bench-school-enrolments',
      title: 'School enrolments to Westminster',
      provider: 'triborough-schools',
      recipients: westminster,
      lawfulBasis: { article6: 'public-task', legislation: ['Education Act 2002 s175'] },
      scope: [
        {
          recordType: 'SchoolEnrolment',
          fields: ['schoolUrn', 'schoolName', 'yearGroup', 'startedOn', 'attendancePercent', 'exclusionsThisYear'],
          where: { field: 'yearGroup', op: 'lte', value: 13 },
        },
      ],
    },
  ];
}

/** Signs `document` by its provider and every recipient, each with its own key. */
export async function signByEveryParty(document: AgreementDocument, keys: ReadonlyMap<string, JWK>): Promise<unknown> {
  let envelope: Awaited<ReturnType<typeof signAgreement>> | undefined;
  for (const org of [document.provider, ...document.recipients.map((r) => r.org)]) {
    const privateJwk = keys.get(org);
    if (privateJwk === undefined) throw new TypeError(`no key for ${org}`);
    envelope = await signAgreement({ document, envelope, org, privateJwk });
  }
  return envelope;
}

/** Registers `orgs` with new Ed25519 keys; returns their private JWKs. */
export async function registerOrganisations(db: Db, orgs: readonly { id: string; name: string; kind: OrganisationKind }[], clock: Clock): Promise<Map<string, JWK>> {
  const keys = new Map<string, JWK>();
  for (const org of orgs) {
    const key = await generateSigningKey({ alg: 'EdDSA', kid: `${org.id}-bench-1` });
    await registerOrganisation(db, { id: org.id, name: org.name, kind: org.kind, jwks: key.publicJwks }, clock);
    keys.set(org.id, key.privateJwk);
  }
  return keys;
}

export function agreementStoreFor(db: Db, clock: Clock): ReturnType<typeof createAgreementStore> {
  const keyStore = createOrganisationKeyStore(db);
  const keyFor: KeyLookup = async (org, kid, alg) => {
    await keyStore.refresh();
    return await keyStore.getKey(org, kid, { alg, includeRetired: true });
  };
  return createAgreementStore(db, { clock, keyFor });
}

/** Registers the organisations and submits the partnership's agreements through the real store. */
export async function buildPartnership(db: Db, clock: Clock): Promise<Partnership> {
  const keys = await registerOrganisations(db, organisations, clock);
  const store = agreementStoreFor(db, clock);
  for (const document of partnershipAgreements(clock())) await store.submit(await signByEveryParty(document, keys), 'hub');
  const key = (org: string) => keys.get(org) as JWK;
  return {
    keys,
    store,
    reader: { org: 'westminster', privateJwk: key('westminster'), sub: 'bench.social.worker@westminster.example', purpose: readerPurpose, roles: ['social-worker'] },
    publisher: { org: 'kensington-chelsea', privateJwk: key('kensington-chelsea'), sub: 'case-system@rbkc.example', purpose: 'case-management', roles: ['case-manager'] },
    hubAdmin: { org: 'hub', privateJwk: key('hub'), sub: 'operator@hub.example', purpose: 'audit', roles: ['hub-admin'] },
    dpo: { org: 'kensington-chelsea', privateJwk: key('kensington-chelsea'), sub: 'dpo@rbkc.example', purpose: 'audit', roles: ['dpo'] },
  };
}
