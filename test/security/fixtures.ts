/**
 * Shared material for the security corpus: a partnership of real organisations with real keys,
 * records whose every withheld string field holds a random canary marker, the agreement that
 * shares a known subset of them, and the assertions every case makes.
 *
 * The canary is what makes a leak visible: a response to anyone who may not see a field must
 * never contain the marker, wherever in the body it might surface (data, error messages,
 * extensions).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { signAgreement, type AgreementEnvelope } from '../../src/agreements/index.js';
import type { Clock } from '../../src/clock.js';
import { makeOrg, type TestOrg } from '../helpers/keys.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import type { GraphQLResponse, TestHub } from '../helpers/test-hub.js';

/**
 * `CANARY-xyz`: exactly 10 characters, so it fits the shortest string fields (postcode,
 * practiceOdsCode) and can be written into every string field of every record type.
 */
export function newCanary(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(3);
  return `CANARY-${[...bytes].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export const [child, adult, stranger] = validNhsNumbers(3, 610_000_000) as [string, string, string];

export const agreementId = 'security-mash';

/**
 * The agreement the corpus works under: kensington-chelsea shares with westminster's social
 * workers, for safeguarding children, exactly these fields. Everything else is withheld.
 */
export function agreementDocument(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'accord.isa/v1',
    id: agreementId,
    version: 1,
    title: 'Security corpus: children',
    provider: 'kensington-chelsea',
    recipients: [{ org: 'westminster', roles: ['social-worker'] }],
    purposes: [{ code: 'safeguarding-children', description: 'Assess risk of significant harm' }],
    lawfulBasis: { article6: 'public-task', article9: 'substantial-public-interest', legislation: ['Children Act 1989 s47'] },
    dataSubjects: ['children'],
    scope: [
      { recordType: 'Demographics', fields: ['givenName', 'dateOfBirth'] },
      { recordType: 'SocialCareCase', fields: ['caseRef', 'service', 'status'], where: { field: 'service', op: 'eq', value: 'CHILDREN' } },
    ],
    breakGlass: { allowed: false },
    validFrom: '2020-01-01T00:00:00Z',
    validUntil: '2099-12-31T23:59:59Z',
    retention: 'P2Y',
    ...overrides,
  };
}

/** The envelope signed by each of `orgs` in turn, with their registered keys. */
export async function signedBy(document: unknown, ...orgs: TestOrg[]): Promise<AgreementEnvelope> {
  let envelope: AgreementEnvelope | undefined;
  for (const org of orgs) envelope = await signAgreement({ document, envelope, org: org.id, privateJwk: org.privateJwk });
  if (envelope === undefined) throw new TypeError('signedBy needs at least one organisation');
  return envelope;
}

/**
 * The provider's records: one of each type about `child`, plus an adults' case about `adult`.
 * Every string field holds the canary except the two the agreement shares (givenName, caseRef
 * of the children's case); every record the recipient may not see has the canary in its
 * externalId too.
 */
export function canaryRecords(canary: string): Record<string, Record<string, unknown>[]> {
  return {
    demographics: [{ externalId: 'kc-d-1', nhsNumber: child, givenName: 'Sam', familyName: canary, dateOfBirth: '2016-05-04', postcode: canary, addressLine: `${canary} Flat 1` }],
    socialCareCases: [
      { externalId: 'kc-c-1', nhsNumber: child, caseRef: 'KC-CH-1', service: 'CHILDREN', status: 'OPEN', category: canary, openedOn: '2025-01-02', leadWorker: canary, summary: `${canary} summary` },
      { externalId: `${canary}-c2`, nhsNumber: adult, caseRef: canary, service: 'ADULTS', status: 'OPEN', category: canary, leadWorker: canary, summary: canary },
    ],
    schoolEnrolments: [{ externalId: `${canary}-s1`, nhsNumber: child, schoolUrn: canary, schoolName: canary, yearGroup: 4, startedOn: '2022-09-01', attendancePercent: 91.5, exclusionsThisYear: 0 }],
    housingTenancies: [{ externalId: `${canary}-h1`, nhsNumber: child, tenancyRef: canary, addressLine: canary, postcode: canary, startedOn: '2019-01-01', rentArrears: true }],
    policeNotifications: [{ externalId: `${canary}-p1`, nhsNumber: child, reference: canary, kind: 'DOMESTIC_ABUSE', occurredOn: '2025-02-03', riskLevel: 'HIGH', summary: canary }],
    gpRegistrations: [{ externalId: `${canary}-g1`, nhsNumber: child, practiceOdsCode: canary, practiceName: canary, registeredOn: '2016-05-10' }],
  };
}

export const publishMutation = 'mutation P($input: PublishRecordsInput!) { publishRecords(input: $input) { count } }';
export const submitMutation = 'mutation S($e: JSON!) { submitAgreement(envelope: $e) { id version status } }';
export const revokeMutation = 'mutation R($r: String!) { revokeAgreement(revocation: $r) { id version status } }';

/** Every field of every record type about one subject: what a leak would have to come through. */
export const everythingQuery = `query Everything($n: NHSNumber!) {
  subject(nhsNumber: $n) {
    demographics { externalId givenName familyName dateOfBirth postcode addressLine }
    socialCareCases { externalId caseRef service status category openedOn closedOn leadWorker summary }
    schoolEnrolments { externalId schoolUrn schoolName yearGroup startedOn attendancePercent exclusionsThisYear }
    housingTenancies { externalId tenancyRef addressLine postcode startedOn endedOn rentArrears }
    policeNotifications { externalId reference kind occurredOn riskLevel summary }
    gpRegistrations { externalId practiceOdsCode practiceName registeredOn }
  }
}`;

/** What westminster sees of `child` through `everythingQuery` under the corpus agreement. */
export const sharedView = {
  subject: {
    demographics: [{ externalId: 'kc-d-1', givenName: 'Sam', familyName: null, dateOfBirth: '2016-05-04', postcode: null, addressLine: null }],
    socialCareCases: [{ externalId: 'kc-c-1', caseRef: 'KC-CH-1', service: 'CHILDREN', status: 'OPEN', category: null, openedOn: null, closedOn: null, leadWorker: null, summary: null }],
    schoolEnrolments: [],
    housingTenancies: [],
    policeNotifications: [],
    gpRegistrations: [],
  },
};

export const nothingVisible = {
  subject: { demographics: [], socialCareCases: [], schoolEnrolments: [], housingTenancies: [], policeNotifications: [], gpRegistrations: [] },
};

/** The NOT_SHARED paths of `sharedView`, sorted. */
export const sharedViewWithheldPaths = [
  'subject.demographics.0.addressLine',
  'subject.demographics.0.familyName',
  'subject.demographics.0.postcode',
  'subject.socialCareCases.0.category',
  'subject.socialCareCases.0.closedOn',
  'subject.socialCareCases.0.leadWorker',
  'subject.socialCareCases.0.openedOn',
  'subject.socialCareCases.0.summary',
];

export interface Partnership {
  readonly kc: TestOrg;
  readonly westminster: TestOrg;
  readonly met: TestOrg;
  readonly camden: TestOrg;
  readonly canary: string;
}

/**
 * Registers the four organisations, publishes the provider's canary records and (unless told
 * not to) submits the corpus agreement, all over the real HTTP path.
 */
export async function setUpPartnership(hub: TestHub, options: { clock?: Clock; agreement?: boolean } = {}): Promise<Partnership> {
  const db = hub.database.db;
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  const kc = await makeOrg(db, 'kensington-chelsea', { kind: 'COUNCIL', ...clock });
  const westminster = await makeOrg(db, 'westminster', { kind: 'COUNCIL', alg: 'ES256', ...clock });
  const met = await makeOrg(db, 'met-police', { kind: 'POLICE', alg: 'PS256', ...clock });
  const camden = await makeOrg(db, 'camden', { kind: 'COUNCIL', alg: 'ES384', ...clock });
  const canary = newCanary();
  const published = await hub.gql(await kc.token(), publishMutation, { input: canaryRecords(canary) });
  expect(published.body).toEqual({ data: { publishRecords: { count: 7 } } });
  if (options.agreement ?? true) {
    const submitted = await hub.gql(await kc.token(), submitMutation, { e: await signedBy(agreementDocument(), kc, westminster) });
    expect(submitted.body).toEqual({ data: { submitAgreement: { id: agreementId, version: 1, status: 'ACTIVE' } } });
  }
  return { kc, westminster, met, camden, canary };
}

/** The error codes of a response, in order. */
export function codesOf(response: GraphQLResponse): unknown[] {
  return (response.body.errors ?? []).map((e) => e.extensions?.code);
}

/** The `code path` of every error, sorted: for asserting exactly which fields were withheld. */
export function errorPaths(response: GraphQLResponse): string[] {
  return (response.body.errors ?? []).map((e) => `${String(e.extensions?.code)} ${e.path?.join('.') ?? '-'}`).sort();
}

/** A request refused as a whole: exact status and code, no data, nothing of the canary. */
export function expectRefused(response: GraphQLResponse, status: number, code: string, canary: string, message?: RegExp): void {
  expect({ status: response.status, codes: codesOf(response) }).toEqual({ status, codes: [code] });
  expect(response.body.data ?? null).toBeNull();
  if (message !== undefined) expect(response.body.errors?.[0]?.message).toMatch(message);
  expect(response.text).not.toContain(canary);
}
