/**
 * Agreements decide what leaves an organisation, so a forged, altered or malformed one must never
 * be stored, and an agreement that ends (expires, is revoked or superseded) must stop the data it
 * released at the next request. Submitted over GraphQL with real keys; the hub's clock is
 * injected so expiry happens for real.
 */
import { FlattenedSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes, signAgreement, signRevocation, type AgreementEnvelope } from '../../src/agreements/index.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import {
  agreementDocument,
  agreementId,
  child,
  codesOf,
  everythingQuery,
  nothingVisible,
  revokeMutation,
  setUpPartnership,
  sharedView,
  signedBy,
  submitMutation,
  type Partnership,
} from './fixtures.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('security corpus: agreements', () => {
  let hub: TestHub;
  let p: Partnership;
  let nowMs = Date.parse('2026-03-02T10:00:00Z');
  const clock = () => new Date(nowMs);

  beforeAll(async () => {
    hub = await startTestHub({ clock, env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub, { clock, agreement: false });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const stored = async () => (await hub.gql(await p.kc.token(), '{ agreements { id version status } }')).body.data?.agreements;
  const westminsterView = async () => await hub.gql(await p.westminster.token(), everythingQuery, { n: child });
  const doc = agreementDocument;

  /** The corpus agreement, correctly signed, with its payload swapped for `other` afterwards. */
  const withPayloadOf = async (other: unknown, canonical = true): Promise<AgreementEnvelope> => ({
    ...(await signedBy(doc(), p.kc, p.westminster)),
    payload: Buffer.from(canonical ? canonicalBytes(other) : new TextEncoder().encode(JSON.stringify(other, null, 1))).toString('base64url'),
  });
  /** The corpus agreement signed by both parties, plus one signature entry built by hand. */
  const withExtraEntry = async (header: Record<string, unknown>, sign: (payload: Uint8Array, header: Record<string, unknown>) => Promise<string>): Promise<AgreementEnvelope> => {
    const envelope = await signedBy(doc(), p.kc);
    const payload = Buffer.from(envelope.payload, 'base64url');
    return { payload: envelope.payload, signatures: [...envelope.signatures, { protected: b64(header), signature: await sign(payload, header) }] };
  };

  // [name, envelope, message]
  const refused: [string, () => Promise<unknown>, RegExp][] = [
    ['a payload altered after signing (scope widened to summary)', () => withPayloadOf({ ...doc(), scope: [{ recordType: 'SocialCareCase', fields: ['summary'] }] }), /signature/i],
    ['a payload altered after signing, not in canonical form', () => withPayloadOf({ ...doc(), scope: [{ recordType: 'SocialCareCase', fields: ['summary'] }] }, false), /canonical/],
    ['a signature altered by one character', async () => {
      const envelope = await signedBy(doc(), p.kc, p.westminster);
      const [first, second] = envelope.signatures;
      const flipped = `${first?.signature.startsWith('A') ? 'B' : 'A'}${first?.signature.slice(1)}`;
      return { ...envelope, signatures: [{ ...first, signature: flipped }, second] };
    }, /signature/i],
    ['the recipient\'s signature missing', () => signedBy(doc(), p.kc), /westminster/],
    ['the provider\'s signature missing', () => signedBy(doc(), p.westminster), /kensington-chelsea/],
    ['the provider signing twice instead of the recipient', async () => await signAgreement({ document: doc(), envelope: await signedBy(doc(), p.kc), org: 'kensington-chelsea', privateJwk: { ...p.kc.privateJwk, kid: 'second' } }), /./],
    ['another organisation\'s key signing under the recipient\'s org', async () => await signAgreement({ document: doc(), envelope: await signedBy(doc(), p.kc), org: 'westminster', privateJwk: p.camden.privateJwk }), /./],
    [
      'another organisation\'s key signing under the recipient\'s org and kid',
      async () => await signAgreement({ document: doc(), envelope: await signedBy(doc(), p.kc), org: 'westminster', privateJwk: { ...p.camden.privateJwk, kid: p.westminster.kid } }),
      /./,
    ],
    ['an unsigned (alg none) entry for the recipient', () => withExtraEntry({ alg: 'none', kid: p.westminster.kid, org: 'westminster' }, async () => ''), /alg|algorithm/i],
    [
      'an HS256 entry keyed with the recipient\'s public key',
      () =>
        withExtraEntry({ alg: 'HS256', kid: p.westminster.kid, org: 'westminster' }, async (payload, header) => {
          const secret = new TextEncoder().encode(JSON.stringify(p.westminster.publicJwks.keys[0]));
          return (await new FlattenedSign(payload).setProtectedHeader(header as { alg: string }).sign(secret)).signature;
        }),
      /alg|algorithm/i,
    ],
    ['an unknown field in scope', () => signedBy(doc({ scope: [{ recordType: 'Demographics', fields: ['givenName', 'favouriteColour'] }] }), p.kc, p.westminster), /favouriteColour/],
    ['an unknown record type in scope', () => signedBy(doc({ scope: [{ recordType: 'MedicalHistory', fields: ['diagnosis'] }] }), p.kc, p.westminster), /MedicalHistory|recordType/],
    ['an unknown top-level member', () => signedBy({ ...doc(), sharesEverything: true }, p.kc, p.westminster), /sharesEverything/],
    ['an empty scope', () => signedBy(doc({ scope: [] }), p.kc, p.westminster), /scope/],
    ...(
      [
        ['an operator that is not in the list', { field: 'service', op: 'regex', value: '.*' }],
        ['a field the record type does not have', { field: 'summary2', op: 'eq', value: 'x' }],
        ['an object as the value (code, not data)', { field: 'service', op: 'eq', value: { $where: 'sleep(10)' } }],
        ['a SQL fragment as the field name', { field: 'service = service OR 1=1 --', op: 'eq', value: 'x' }],
        ['"in" without a list', { field: 'service', op: 'in', value: 'CHILDREN' }],
        ['an unknown combinator', { some: [{ field: 'service', op: 'eq', value: 'CHILDREN' }] }],
        ['nesting deeper than the limit', Array.from({ length: 12 }).reduce<unknown>((c) => ({ not: c }), { field: 'service', op: 'eq', value: 'CHILDREN' })],
        ['a condition on another record\'s field', { field: 'subject.nhsNumber', op: 'eq', value: '0000000000' }],
      ] as const
    ).map(([name, where]): [string, () => Promise<unknown>, RegExp] => [
      `a malformed where: ${name}`,
      () => signedBy(doc({ scope: [{ recordType: 'SocialCareCase', fields: ['caseRef'], where }] }), p.kc, p.westminster),
      /where/,
    ]),
    ['the provider also a recipient', () => signedBy(doc({ recipients: [{ org: 'westminster' }, { org: 'kensington-chelsea' }] }), p.kc, p.westminster), /provider/],
    ['a recipient that is not registered', () => signedBy(doc({ recipients: [{ org: 'westminster' }, { org: 'not-registered' }] }), p.kc, p.westminster), /not-registered/],
    ['special-category data without article9', () => signedBy(doc({ lawfulBasis: { article6: 'public-task' } }), p.kc, p.westminster), /article9/],
    ['validUntil before validFrom', () => signedBy(doc({ validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-05-01T00:00:00Z' }), p.kc, p.westminster), /validUntil/],
    ['version 0', () => signedBy(doc({ version: 0 }), p.kc, p.westminster), /version/],
    ['a payload that is not JSON', async () => ({ ...(await signedBy(doc(), p.kc, p.westminster)), payload: Buffer.from('not json').toString('base64url') }), /./],
    ['a string instead of an envelope', async () => 'eyJhbGciOiJub25lIn0.e30.', /./],
    ['an envelope with no signatures', async () => ({ payload: (await signedBy(doc(), p.kc)).payload, signatures: [] }), /signature/i],
  ];

  it.each(refused)('refuses %s with INVALID_AGREEMENT, storing nothing', async (_name, make, message) => {
    const response = await hub.gql(await p.kc.token(), submitMutation, { e: await make() });
    expect(response.status).toBe(200);
    expect(codesOf(response)).toEqual(['INVALID_AGREEMENT']);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors?.[0]?.message).toMatch(message);
    expect(response.text).not.toContain(p.canary);
    expect(await stored()).toEqual([]);
    expect((await westminsterView()).body).toEqual({ data: nothingVisible });
  });

  it('treats a where value full of SQL metacharacters as data: stored, and it matches nothing', async () => {
    const document = doc({ id: 'sql-in-where', scope: [{ recordType: 'SocialCareCase', fields: ['caseRef'], where: { field: 'caseRef', op: 'eq', value: "KC-CH-1' OR '1'='1" } }] });
    const response = await hub.gql(await p.kc.token(), submitMutation, { e: await signedBy(document, p.kc, p.westminster) });
    expect(response.body).toEqual({ data: { submitAgreement: { id: 'sql-in-where', version: 1, status: 'ACTIVE' } } });
    expect((await westminsterView()).body).toEqual({ data: nothingVisible });
    const revocation = await signRevocation({ agreement: 'sql-in-where', version: 1, reason: 'test over', at: clock(), org: 'kensington-chelsea', privateJwk: p.kc.privateJwk });
    expect((await hub.gql(await p.kc.token(), revokeMutation, { r: revocation })).body.data).toEqual({ revokeAgreement: { id: 'sql-in-where', version: 1, status: 'REVOKED' } });
  });

  describe('lifecycle: the data that stops flowing', () => {
    it('releases the agreed fields once the agreement is active', async () => {
      const response = await hub.gql(await p.kc.token(), submitMutation, { e: await signedBy(doc(), p.kc, p.westminster) });
      expect(response.body).toEqual({ data: { submitAgreement: { id: agreementId, version: 1, status: 'ACTIVE' } } });
      const view = await westminsterView();
      expect(view.body.data).toEqual(sharedView);
      expect(view.text).not.toContain(p.canary);
    });

    it.each([
      ['a new version signed by the provider only', async () => await signedBy(doc({ version: 2, scope: [{ recordType: 'SocialCareCase', fields: ['summary'] }] }), p.kc), /westminster/],
      ['the same version again', async () => await signedBy(doc({ title: 'changed' }), p.kc, p.westminster), /already exists/],
      // Submitted by camden, party to no version of it: told only that the id is taken (security/refusals.test.ts).
      ['a new version under another provider', async () => await signedBy(doc({ version: 2, provider: 'camden', recipients: [{ org: 'westminster' }] }), p.camden, p.westminster), /already used by an agreement camden is not a party to/],
    ])('refuses %s and keeps sharing exactly as before', async (_name, make, message) => {
      const response = await hub.gql(await (message.source.includes('camden') ? p.camden : p.kc).token(), submitMutation, { e: await make() });
      expect(codesOf(response)).toEqual(['INVALID_AGREEMENT']);
      expect(response.body.errors?.[0]?.message).toMatch(message);
      expect(await stored()).toEqual(expect.arrayContaining([{ id: agreementId, version: 1, status: 'ACTIVE' }]));
      expect((await stored()) as unknown[]).not.toContainEqual(expect.objectContaining({ id: agreementId, version: 2 }));
      expect((await westminsterView()).body.data).toEqual(sharedView);
    });

    it('supersedes v1 with a narrower v2: the v1-only fields stop flowing at the next request', async () => {
      const v2 = doc({ version: 2, scope: [{ recordType: 'Demographics', fields: ['givenName'] }] });
      expect((await hub.gql(await p.kc.token(), submitMutation, { e: await signedBy(v2, p.kc, p.westminster) })).body.data).toEqual({ submitAgreement: { id: agreementId, version: 2, status: 'ACTIVE' } });
      expect(await stored()).toEqual(expect.arrayContaining([{ id: agreementId, version: 1, status: 'SUPERSEDED' }, { id: agreementId, version: 2, status: 'ACTIVE' }]));
      const view = await westminsterView();
      expect(view.body.data).toEqual({
        subject: { ...nothingVisible.subject, demographics: [{ externalId: 'kc-d-1', givenName: 'Sam', familyName: null, dateOfBirth: null, postcode: null, addressLine: null }] },
      });
      expect(view.text).not.toContain(p.canary);
      expect(view.text).not.toContain('KC-CH-1');
    });

    it.each([
      ['signed by an organisation that is not a party', () => signRevocation({ agreement: agreementId, version: 2, reason: 'not mine', at: clock(), org: 'camden', privateJwk: p.camden.privateJwk }), 'INVALID_AGREEMENT'],
      ['signed by another key under a party\'s org', () => signRevocation({ agreement: agreementId, version: 2, reason: 'forged', at: clock(), org: 'westminster', privateJwk: p.camden.privateJwk }), 'INVALID_AGREEMENT'],
      ['dated in the future', () => signRevocation({ agreement: agreementId, version: 2, reason: 'later', at: new Date(nowMs + 3_600_000), org: 'westminster', privateJwk: p.westminster.privateJwk }), 'INVALID_AGREEMENT'],
      // FORBIDDEN, the answer a non-party gets: the caller cannot tell a missing version from another's.
      ['of a version that does not exist', () => signRevocation({ agreement: agreementId, version: 9, reason: 'none', at: clock(), org: 'westminster', privateJwk: p.westminster.privateJwk }), 'FORBIDDEN'],
      ['altered after signing', async () => {
        const [header, , signature] = (await signRevocation({ agreement: 'other', version: 1, reason: 'x', at: clock(), org: 'westminster', privateJwk: p.westminster.privateJwk })).split('.');
        return `${header}.${b64({ type: 'accord.revocation/v1', agreement: agreementId, version: 2, reason: 'x', at: clock().toISOString() })}.${signature}`;
      }, 'INVALID_AGREEMENT'],
    ])('refuses a revocation %s, and sharing goes on', async (_name, make, code) => {
      const response = await hub.gql(await p.westminster.token(), revokeMutation, { r: await make() });
      expect(codesOf(response)).toEqual([code]);
      expect(response.body.data ?? null).toBeNull();
      expect(((await westminsterView()).body.data as typeof sharedView).subject.demographics).toHaveLength(1);
    });

    it('revokes v2 at the recipient\'s request, and refuses the same revocation twice', async () => {
      const revocation = await signRevocation({ agreement: agreementId, version: 2, reason: 'Partnership ended', at: clock(), org: 'westminster', privateJwk: p.westminster.privateJwk });
      expect((await hub.gql(await p.westminster.token(), revokeMutation, { r: revocation })).body.data).toEqual({ revokeAgreement: { id: agreementId, version: 2, status: 'REVOKED' } });
      const again = await hub.gql(await p.westminster.token(), revokeMutation, { r: revocation });
      expect(codesOf(again)).toEqual(['INVALID_AGREEMENT']);
      expect(again.body.errors?.[0]?.message).toMatch(/already revoked/);
    });

    // v1 stays SUPERSEDED once v2 took effect: revoking v2 stops the sharing rather than
    // bringing back the broader v1 (its v1-only fields, dateOfBirth and the social care case).
    it('stops everything once the current version is revoked: the superseded v1 does not come back', async () => {
      const view = await westminsterView();
      expect(view.text).not.toContain(p.canary);
      expect(view.body).toEqual({ data: nothingVisible });
    });

    it('stops everything once every version is revoked', async () => {
      const revocation = await signRevocation({ agreement: agreementId, version: 1, reason: 'Partnership ended', at: clock(), org: 'kensington-chelsea', privateJwk: p.kc.privateJwk });
      expect((await hub.gql(await p.kc.token(), revokeMutation, { r: revocation })).body.data).toEqual({ revokeAgreement: { id: agreementId, version: 1, status: 'REVOKED' } });
      const view = await westminsterView();
      expect(view.body).toEqual({ data: nothingVisible });
      expect(view.text).not.toContain(p.canary);
    });

    it('stops the data when an agreement expires, at the first request after validUntil', async () => {
      const expiring = doc({
        id: 'expiring-police',
        recipients: [{ org: 'met-police' }],
        scope: [{ recordType: 'PoliceNotification', fields: ['kind', 'riskLevel', 'occurredOn'] }],
        lawfulBasis: { article6: 'public-task', article10: 'dpa2018-sch1-pt2-para18' },
        validUntil: new Date(nowMs + 3_600_000).toISOString(),
      });
      expect((await hub.gql(await p.kc.token(), submitMutation, { e: await signedBy(expiring, p.kc, p.met) })).body.data).toEqual({ submitAgreement: { id: 'expiring-police', version: 1, status: 'ACTIVE' } });
      const query = `{ subject(nhsNumber: "${child}") { policeNotifications { kind riskLevel occurredOn reference summary } } }`;
      const before = await hub.gql(await p.met.token(), query);
      expect(before.body.data).toEqual({ subject: { policeNotifications: [{ kind: 'DOMESTIC_ABUSE', riskLevel: 'HIGH', occurredOn: '2025-02-03', reference: null, summary: null }] } });
      expect(before.text).not.toContain(p.canary);

      nowMs += 3_600_000 + 1_000;
      const after = await hub.gql(await p.met.token(), query);
      expect(after.body).toEqual({ data: { subject: { policeNotifications: [] } } });
      const status = await hub.gql(await p.met.token(), '{ agreement(id: "expiring-police") { status } }');
      expect(status.body.data).toEqual({ agreement: { status: 'EXPIRED' } });
    });

    it('stores an agreement submitted after its validUntil as EXPIRED, releasing nothing', async () => {
      const expired = doc({ id: 'already-expired', validFrom: '2020-01-01T00:00:00Z', validUntil: '2021-01-01T00:00:00Z' });
      expect((await hub.gql(await p.kc.token(), submitMutation, { e: await signedBy(expired, p.kc, p.westminster) })).body.data).toEqual({ submitAgreement: { id: 'already-expired', version: 1, status: 'EXPIRED' } });
      expect((await westminsterView()).body).toEqual({ data: nothingVisible });
    });
  });
});
