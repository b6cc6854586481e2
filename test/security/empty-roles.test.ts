/**
 * Finding 1 of the red-team review: an agreement whose recipient entry said `"roles": []` released
 * its scope to every caller of that organisation, whatever its roles (even none). A list that is
 * given is a restriction (CONTRACT §3): the hub refuses an empty one, and one stored by an earlier
 * hub matches no role (fail closed) until its parties sign a new version.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes, payloadHash } from '../../src/agreements/index.js';
import { tables } from '../../src/db/index.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { agreementDocument, child, codesOf, everythingQuery, nothingVisible, setUpPartnership, signedBy, submitMutation, type Partnership } from './fixtures.js';

describe('security: an empty recipient roles list', () => {
  let hub: TestHub;
  let p: Partnership;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub, { agreement: false });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const emptyRoles = (id: string) => agreementDocument({ id, recipients: [{ org: 'westminster', roles: [] }] });
  const viewWith = async (roles: string[]) => await hub.gql(await p.westminster.token({ roles }), everythingQuery, { n: child });

  it('is refused on submission with INVALID_AGREEMENT naming the rule, and nothing is stored or shared', async () => {
    const response = await hub.gql(await p.kc.token(), submitMutation, { e: await signedBy(emptyRoles('empty-roles'), p.kc, p.westminster) });
    expect(codesOf(response)).toEqual(['INVALID_AGREEMENT']);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors?.[0]?.message).toMatch(/recipients\[0\]\.roles: must be a non-empty array/);
    expect(response.body.errors?.[0]?.extensions?.problems).toContainEqual({ path: 'recipients[0].roles', reason: 'must be a non-empty array of strings' });
    expect((await hub.gql(await p.kc.token(), '{ agreement(id: "empty-roles") { id } }')).body.data).toEqual({ agreement: null });
    for (const roles of [['social-worker'], [], ['anything-at-all']]) expect((await viewWith(roles)).body).toEqual({ data: nothingVisible });
  });

  describe('stored by an earlier hub (written to the table directly: the hub no longer accepts one)', () => {
    beforeAll(async () => {
      const document = emptyRoles('stored-empty-roles');
      const envelope = await signedBy(document, p.kc, p.westminster);
      await hub.database.db.transaction(async (tx) => {
        await tx.insert(tables.agreements).values({
          id: 'stored-empty-roles',
          version: 1,
          provider: 'kensington-chelsea',
          title: document.title as string,
          document,
          envelope: envelope as unknown as Record<string, unknown>,
          payloadHash: payloadHash(canonicalBytes(document)),
          validFrom: new Date(document.validFrom as string),
          validUntil: new Date(document.validUntil as string),
          submittedBy: 'kensington-chelsea',
        });
        // As a submission does: every hub instance reloads its decision index at its next request.
        await tx.update(tables.hubState).set({ generation: sql`${tables.hubState.generation} + 1` }).where(eq(tables.hubState.key, 'agreements'));
      });
    });

    it.each([
      ['the role the agreement was meant for', ['social-worker']],
      ['another role', ['receptionist']],
      ['no role at all', []],
    ])('releases nothing to a caller with %s: an empty list matches no role', async (_name, roles) => {
      const response = await viewWith(roles);
      expect(response.body).toEqual({ data: nothingVisible });
      expect(response.text).not.toContain(p.canary);
    });

    it('shows the parties the empty list as it is (anyRole false), not as "any role"', async () => {
      const response = await hub.gql(await p.westminster.token(), '{ agreement(id: "stored-empty-roles") { status recipients { organisation { id } roles anyRole } } }');
      expect(response.body).toEqual({ data: { agreement: { status: 'ACTIVE', recipients: [{ organisation: { id: 'westminster' }, roles: [], anyRole: false }] } } });
    });

    it('still shares with any role where roles is absent, the way to say "any role"', async () => {
      const anyRole = agreementDocument({ id: 'any-role', recipients: [{ org: 'westminster' }], scope: [{ recordType: 'Demographics', fields: ['givenName'] }] });
      const submitted = await hub.gql(await p.kc.token(), submitMutation, { e: await signedBy(anyRole, p.kc, p.westminster) });
      expect(submitted.body).toEqual({ data: { submitAgreement: { id: 'any-role', version: 1, status: 'ACTIVE' } } });
      const response = await viewWith([]);
      expect((response.body.data as typeof nothingVisible).subject.demographics).toEqual([expect.objectContaining({ externalId: 'kc-d-1', givenName: 'Sam' })]);
      expect(response.text).not.toContain(p.canary);
    });
  });
});
