/**
 * Finding 3 of the red-team review: submitting a new version of an agreement id the caller is no
 * party to was refused with a message naming the real agreement's provider, and that text was
 * kept in an audit event the caller's own DPO reads. A refusal says only what the caller may
 * know: that the id is taken by an agreement it is not a party to. Checked in the response, in
 * the stored audit row, and in what the caller's DPO reads.
 */
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/db/tables.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { agreementDocument, agreementId, codesOf, setUpPartnership, signedBy, submitMutation, type Partnership } from './fixtures.js';

describe('security: refusals name nothing of an agreement the caller is not party to', () => {
  let hub: TestHub;
  let p: Partnership;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    // kensington-chelsea's 'security-mash' v1 "Security corpus: children", shared with westminster.
    p = await setUpPartnership(hub);
    // A second version, so the stored versions (1 and 2) are facts a stranger could learn too.
    const v2 = agreementDocument({ version: 2, title: 'Security corpus: children (reviewed)' });
    expect((await hub.gql(await p.kc.token(), submitMutation, { e: await signedBy(v2, p.kc, p.westminster) })).body.data).toEqual({ submitAgreement: { id: agreementId, version: 2, status: 'ACTIVE' } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  /** What no refusal to camden or met-police may contain: the real agreement's provider, title, recipients and versions. */
  function expectNothingOfTheRealAgreement(text: string): void {
    expect(text).not.toContain('kensington-chelsea');
    expect(text).not.toContain('Security corpus');
    expect(text).not.toContain('westminster');
    expect(text).not.toMatch(/version [12]\b|stored version|already exists|not higher/);
  }

  // camden and met-police sign their own documents under the taken id, provider camden.
  it.each([
    ['a higher version', 7],
    ['the version that is stored', 2],
    ['a lower version', 1],
  ])('refuses %s under the taken id with INVALID_AGREEMENT, saying only that the id is taken', async (_name, version) => {
    const token = await p.camden.token({ sub: `probe-${version}@camden` });
    const document = agreementDocument({ version, title: 'Camden probe', provider: 'camden', recipients: [{ org: 'met-police' }] });
    const response = await hub.gql(token, submitMutation, { e: await signedBy(document, p.camden, p.met) });
    expect(codesOf(response)).toEqual(['INVALID_AGREEMENT']);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors?.[0]?.message).toBe(`the agreement id ${agreementId} is already used by an agreement camden is not a party to: choose another id`);
    expectNothingOfTheRealAgreement(response.text);

    // The FAILURE event camden's DPO reads: no owner, no agreement, and the same words.
    const [stored] = await hub.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.actorOrg, 'camden'), eq(auditEvents.actorUser, `probe-${version}@camden`)))
      .orderBy(desc(auditEvents.seq))
      .limit(1);
    expect(stored).toMatchObject({ action: 'AGREEMENT_SUBMIT', outcome: 'FAILURE', ownerOrg: null, records: [] });
    expect(stored?.details).toEqual({ code: 'INVALID_AGREEMENT', reason: `the agreement id ${agreementId} is already used by an agreement camden is not a party to: choose another id` });
    expectNothingOfTheRealAgreement(JSON.stringify(stored));

    const dpoView = await hub.gql(
      await p.camden.token({ roles: ['dpo'], purpose: 'data-protection-oversight' }),
      'query { auditEvents(filter: { actorOrg: "camden", action: AGREEMENT_SUBMIT }) { edges { node { outcome ownerOrg records { recordType agreements { id } } details } } } }',
    );
    expect(dpoView.body.errors).toBeUndefined();
    expectNothingOfTheRealAgreement(dpoView.text);
  });

  it('still tells a party to the agreement whose provider it is', async () => {
    const document = agreementDocument({ version: 3, provider: 'camden', recipients: [{ org: 'westminster' }] });
    const response = await hub.gql(await p.westminster.token(), submitMutation, { e: await signedBy(document, p.camden, p.westminster) });
    expect(codesOf(response)).toEqual(['INVALID_AGREEMENT']);
    expect(response.body.errors?.[0]?.message).toBe(`agreement ${agreementId} belongs to provider kensington-chelsea: a new version must keep that provider`);
  });

  it('answers a stranger\'s agreement(id) exactly as an id that does not exist', async () => {
    const taken = await hub.gql(await p.camden.token(), `{ agreement(id: "${agreementId}") { id } }`);
    const free = await hub.gql(await p.camden.token(), '{ agreement(id: "no-such-agreement") { id } }');
    expect(taken.body).toEqual({ data: { agreement: null } });
    expect(taken.body).toEqual(free.body);
  });
});
