/**
 * Agreements decide what leaves an organisation, end to end: real keys, real signatures,
 * submitted and revoked over GraphQL, decisions applied to every path that reaches a field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAgreement, signRevocation, type AgreementEnvelope } from '../../src/agreements/index.js';
import { makeOrg, type TestOrg } from '../helpers/keys.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';

const [child, adult] = validNhsNumbers(2, 7);

function agreementDocument(version: number, overrides: Record<string, unknown> = {}) {
  return {
    type: 'accord.isa/v1',
    id: 'triborough-mash-children',
    version,
    title: 'Tri-borough MASH: children',
    provider: 'kensington-chelsea',
    recipients: [
      { org: 'westminster', roles: ['social-worker', 'safeguarding-lead'] },
      { org: 'met-police', roles: ['mash-officer'] },
    ],
    purposes: [{ code: 'safeguarding-children', description: 'Assess risk of significant harm' }],
    lawfulBasis: { article6: 'public-task', article9: 'substantial-public-interest', legislation: ['Children Act 1989 s47'] },
    dataSubjects: ['children'],
    scope: [
      { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth'] },
      {
        recordType: 'SocialCareCase',
        fields: ['caseRef', 'service', 'status', 'leadWorker'],
        where: { field: 'service', op: 'eq', value: 'CHILDREN' },
      },
    ],
    breakGlass: { allowed: true, roles: ['safeguarding-lead'] },
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2030-12-31T23:59:59Z',
    reviewBy: '2030-06-30',
    retention: 'P2Y',
    ...overrides,
  };
}

async function signedBy(document: unknown, ...orgs: TestOrg[]): Promise<AgreementEnvelope> {
  let envelope: AgreementEnvelope | undefined;
  for (const org of orgs) envelope = await signAgreement({ document, envelope, org: org.id, privateJwk: org.privateJwk });
  return envelope as AgreementEnvelope;
}

const submit = `mutation S($e: JSON!) { submitAgreement(envelope: $e) { id version status provider { id } sharedScope: scope { recordType fields } } }`;
const lookup = `query L($n: NHSNumber!) {
  subject(nhsNumber: $n) {
    demographics { givenName familyName dateOfBirth postcode sharedUnder { id version } }
    socialCareCases { caseRef service status leadWorker summary sharedUnder { id version } }
  }
}`;

describe('agreements over HTTP', () => {
  let hub: TestHub;
  let kc: TestOrg;
  let westminster: TestOrg;
  let met: TestOrg;
  let camden: TestOrg;

  beforeAll(async () => {
    hub = await startTestHub();
    const db = hub.database.db;
    kc = await makeOrg(db, 'kensington-chelsea');
    westminster = await makeOrg(db, 'westminster', { alg: 'ES256' });
    met = await makeOrg(db, 'met-police', { kind: 'POLICE', alg: 'PS256' });
    camden = await makeOrg(db, 'camden');
    const published = await hub.gql(
      await kc.token(),
      `mutation P($input: PublishRecordsInput!) { publishRecords(input: $input) { count } }`,
      {
        input: {
          demographics: [{ externalId: 'kc-d-1', nhsNumber: child, givenName: 'Sam', familyName: 'Synthetic', dateOfBirth: '2016-05-04', postcode: 'SW3 1AA' }],
          socialCareCases: [
            { externalId: 'kc-c-1', nhsNumber: child, caseRef: 'KC-CH-1', service: 'CHILDREN', status: 'OPEN', leadWorker: 'A Worker', summary: 'CANARY-child-summary' },
            { externalId: 'kc-c-2', nhsNumber: adult, caseRef: 'KC-AD-1', service: 'ADULTS', status: 'OPEN', leadWorker: 'B Worker', summary: 'CANARY-adult-summary' },
          ],
        },
      },
    );
    expect(published.body.errors).toBeUndefined();
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('refuses envelopes that are not signed by every party, storing nothing', async () => {
    const cases: [string, Promise<AgreementEnvelope>, RegExp][] = [
      ['provider only', signedBy(agreementDocument(1), kc), /westminster|met-police|recipient/],
      ['recipients only', signedBy(agreementDocument(1), westminster, met), /kensington-chelsea|provider/],
      ['a non-party signs for a party', signAgreement({ document: agreementDocument(1), envelope: await signedBy(agreementDocument(1), kc, westminster), org: 'met-police', privateJwk: camden.privateJwk }), /./],
    ];
    for (const [name, envelopePromise, message] of cases) {
      const response = await hub.gql(await kc.token(), submit, { e: await envelopePromise });
      expect(response.body.errors?.[0]?.extensions?.code, name).toBe('INVALID_AGREEMENT');
      expect(response.body.errors?.[0]?.message, name).toMatch(message);
    }
    const tampered = await signedBy(agreementDocument(1), kc, westminster, met);
    const altered = { ...tampered, payload: Buffer.from(JSON.stringify({ ...agreementDocument(1), scope: [{ recordType: 'SocialCareCase', fields: ['summary'] }] })).toString('base64url') };
    const refused = await hub.gql(await kc.token(), submit, { e: altered });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('INVALID_AGREEMENT');
    const listed = await hub.gql(await kc.token(), '{ agreements { id } }');
    expect(listed.body.data).toEqual({ agreements: [] });
  });

  it('shares nothing before the agreement exists', async () => {
    const response = await hub.gql(await westminster.token(), lookup, { n: child });
    expect(response.body).toEqual({ data: { subject: { demographics: [], socialCareCases: [] } } });
  });

  it('activates a fully signed agreement, which a non-party cannot see', async () => {
    const response = await hub.gql(await westminster.token(), submit, { e: await signedBy(agreementDocument(1), kc, westminster, met) });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.submitAgreement).toMatchObject({ id: 'triborough-mash-children', version: 1, status: 'ACTIVE', provider: { id: 'kensington-chelsea' } });
    const other = await hub.gql(await camden.token(), '{ agreement(id: "triborough-mash-children") { id } agreements { id } }');
    expect(other.body.data).toEqual({ agreement: null, agreements: [] });
  });

  it('releases exactly the agreed fields of the records the condition admits', async () => {
    const response = await hub.gql(await westminster.token(), lookup, { n: child });
    expect(response.body.data).toEqual({
      subject: {
        demographics: [{ givenName: 'Sam', familyName: 'Synthetic', dateOfBirth: '2016-05-04', postcode: null, sharedUnder: [{ id: 'triborough-mash-children', version: 1 }] }],
        socialCareCases: [
          { caseRef: 'KC-CH-1', service: 'CHILDREN', status: 'OPEN', leadWorker: 'A Worker', summary: null, sharedUnder: [{ id: 'triborough-mash-children', version: 1 }] },
        ],
      },
    });
    const notShared = (response.body.errors ?? []).map((e) => [e.extensions?.code, e.path?.join('.')]);
    expect(notShared.sort()).toEqual([
      ['NOT_SHARED', 'subject.demographics.0.postcode'],
      ['NOT_SHARED', 'subject.socialCareCases.0.summary'],
    ]);
    expect(response.text).not.toContain('CANARY');
    // The adult's case fails the `where` condition: left out without a trace.
    const adultCase = await hub.gql(await westminster.token(), lookup, { n: adult });
    expect(adultCase.body).toEqual({ data: { subject: { demographics: [], socialCareCases: [] } } });
  });

  it.each([
    ['another purpose', { purpose: 'education-welfare' }],
    ['a role the recipient entry does not list', { roles: ['housing-officer'] }],
    ['no roles at all', { roles: [] }],
  ])('shares nothing for %s', async (_name, claims) => {
    const response = await hub.gql(await westminster.token(claims), lookup, { n: child });
    expect(response.body).toEqual({ data: { subject: { demographics: [], socialCareCases: [] } } });
  });

  it.each([
    ['an alias', `{ subject(nhsNumber: "${child}") { socialCareCases { secret: summary } } }`, 'subject.socialCareCases.0.secret'],
    ['a named fragment', `query { subject(nhsNumber: "${child}") { socialCareCases { ...F } } } fragment F on SocialCareCase { summary }`, 'subject.socialCareCases.0.summary'],
    ['an inline fragment through the Record interface', `{ subject(nhsNumber: "${child}") { socialCareCases { ... on Record { ... on SocialCareCase { summary } } } } }`, 'subject.socialCareCases.0.summary'],
    ['a duplicated selection', `{ subject(nhsNumber: "${child}") { socialCareCases { summary summary s2: summary } } }`, 'subject.socialCareCases.0.summary'],
  ])('withholds an uncovered field reached through %s', async (_name, query, path) => {
    const response = await hub.gql(await westminster.token(), query);
    expect(response.text).not.toContain('CANARY');
    expect(response.body.errors?.map((e) => e.path?.join('.'))).toContain(path);
    expect(response.body.errors?.every((e) => e.extensions?.code === 'NOT_SHARED')).toBe(true);
  });

  it('lets a safeguarding lead break glass: scoped fields regardless of purpose and condition', async () => {
    const response = await hub.gql(
      await westminster.token({ roles: ['safeguarding-lead'], purpose: 'emergency', break_glass: { reason: 'Child at immediate risk, out of hours, duty manager approved' } }),
      lookup,
      { n: adult },
    );
    const cases = (response.body.data?.subject as { socialCareCases: Record<string, unknown>[] }).socialCareCases;
    expect(cases).toEqual([{ caseRef: 'KC-AD-1', service: 'ADULTS', status: 'OPEN', leadWorker: 'B Worker', summary: null, sharedUnder: [{ id: 'triborough-mash-children', version: 1 }] }]);
    const socialWorker = await hub.gql(
      await westminster.token({ roles: ['social-worker'], purpose: 'emergency', break_glass: { reason: 'Child at immediate risk, out of hours, duty manager approved' } }),
      lookup,
      { n: adult },
    );
    expect(socialWorker.body.data).toEqual({ subject: { demographics: [], socialCareCases: [] } });
  });

  it('takes a revocation made through one instance into account at the next request on another', async () => {
    const second = await hub.startSecondInstance();
    const before = await second.gql(await westminster.token(), lookup, { n: child });
    expect((before.body.data?.subject as { demographics: unknown[] }).demographics).toHaveLength(1);

    const revocation = await signRevocation({ agreement: 'triborough-mash-children', version: 1, reason: 'Partnership dissolved', at: new Date(), org: 'met-police', privateJwk: met.privateJwk });
    const revoked = await hub.gql(await met.token({ roles: ['mash-officer'] }), `mutation R($r: String!) { revokeAgreement(revocation: $r) { version status revokedBy } }`, { r: revocation });
    expect(revoked.body.data).toEqual({ revokeAgreement: { version: 1, status: 'REVOKED', revokedBy: 'met-police' } });

    const after = await second.gql(await westminster.token(), lookup, { n: child });
    expect(after.body).toEqual({ data: { subject: { demographics: [], socialCareCases: [] } } });
  });

  it('supersedes an active version 1 with version 2 (status only: v1 no longer decides)', async () => {
    const document = agreementDocument(1, { id: 'kc-met-housing', recipients: [{ org: 'met-police', roles: ['mash-officer'] }], scope: [{ recordType: 'Demographics', fields: ['givenName'] }], breakGlass: { allowed: false } });
    expect((await hub.gql(await kc.token(), submit, { e: await signedBy(document, kc, met) })).body.data?.submitAgreement).toMatchObject({ status: 'ACTIVE' });
    const v2 = { ...document, version: 2, scope: [{ recordType: 'Demographics', fields: ['familyName'] }] };
    expect((await hub.gql(await kc.token(), submit, { e: await signedBy(v2, kc, met) })).body.data?.submitAgreement).toMatchObject({ status: 'ACTIVE' });
    const statuses = await hub.gql(await met.token(), '{ v1: agreement(id: "kc-met-housing", version: 1) { status } v2: agreement(id: "kc-met-housing") { version status } }');
    expect(statuses.body.data).toEqual({ v1: { status: 'SUPERSEDED' }, v2: { version: 2, status: 'ACTIVE' } });
    const read = await hub.gql(await met.token({ roles: ['mash-officer'] }), `{ subject(nhsNumber: "${child}") { demographics { givenName familyName sharedUnder { id version } } } }`);
    expect(read.body.data).toEqual({ subject: { demographics: [{ givenName: null, familyName: 'Synthetic', sharedUnder: [{ id: 'kc-met-housing', version: 2 }] }] } });
  });

  it('activates version 2, signed by every party again, and releases only what it lists', async () => {
    const narrower = agreementDocument(2, {
      scope: [{ recordType: 'Demographics', fields: ['givenName'] }],
    });
    const response = await hub.gql(await kc.token(), submit, { e: await signedBy(narrower, kc, westminster, met) });
    expect(response.body.data?.submitAgreement).toMatchObject({ version: 2, status: 'ACTIVE' });
    const statuses = await hub.gql(await kc.token(), '{ agreements { id version status } }');
    expect(statuses.body.data?.agreements).toEqual(
      expect.arrayContaining([
        { id: 'triborough-mash-children', version: 2, status: 'ACTIVE' },
        { id: 'triborough-mash-children', version: 1, status: 'REVOKED' },
      ]),
    );
    const read = await hub.gql(await westminster.token(), lookup, { n: child });
    expect(read.body.data).toEqual({
      subject: {
        demographics: [{ givenName: 'Sam', familyName: null, dateOfBirth: null, postcode: null, sharedUnder: [{ id: 'triborough-mash-children', version: 2 }] }],
        socialCareCases: [],
      },
    });
  });

  it('applies a subject.ageYears condition, the age taken from the provider\'s own demographics', async () => {
    const published = await hub.gql(await kc.token(), `mutation P($i: PublishRecordsInput!) { publishRecords(input: $i) { count } }`, {
      i: {
        schoolEnrolments: [
          { externalId: 'kc-s-1', nhsNumber: child, schoolName: 'Synthetic Primary' },
          { externalId: 'kc-s-2', nhsNumber: adult, schoolName: 'Synthetic College' },
        ],
      },
    });
    expect(published.body.errors).toBeUndefined();
    const document = agreementDocument(1, {
      id: 'kc-camden-education',
      recipients: [{ org: 'camden' }],
      purposes: [{ code: 'education-welfare' }],
      lawfulBasis: { article6: 'public-task' },
      scope: [{ recordType: 'SchoolEnrolment', fields: ['schoolName'], where: { field: 'subject.ageYears', op: 'lt', value: 18 } }],
      breakGlass: { allowed: false },
    });
    expect((await hub.gql(await kc.token(), submit, { e: await signedBy(document, kc, camden) })).body.errors).toBeUndefined();
    const query = `query Q($n: NHSNumber!) { subject(nhsNumber: $n) { schoolEnrolments { schoolName } } }`;
    // The child (born 2016, per kc's Demographics) is under 18; the adult has no date of birth at kc, so no age, so no match.
    expect((await hub.gql(await camden.token({ purpose: 'education-welfare' }), query, { n: child })).body.data).toEqual({ subject: { schoolEnrolments: [{ schoolName: 'Synthetic Primary' }] } });
    expect((await hub.gql(await camden.token({ purpose: 'education-welfare' }), query, { n: adult })).body.data).toEqual({ subject: { schoolEnrolments: [] } });
  });

  it('refuses a revocation signed by an organisation that is not a party', async () => {
    const revocation = await signRevocation({ agreement: 'triborough-mash-children', version: 2, reason: 'Not mine to revoke', at: new Date(), org: 'camden', privateJwk: camden.privateJwk });
    const response = await hub.gql(await camden.token(), `mutation R($r: String!) { revokeAgreement(revocation: $r) { status } }`, { r: revocation });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
