/**
 * Found by the review (docs/security.md, "What each answer may reveal"): an owner's DPO sees only
 * the events of its own records, but `seq` is gapless across the whole trail. When one request
 * released records of two owners interleaved (kc, camden, kc), kensington-chelsea's DPO saw a gap
 * between two of its own events of the same request, and so learnt that the request (about one
 * child) released something of another organisation's. A request's events are now grouped by
 * owner, so each owner's events of one request are consecutive. Since events list their records
 * (one event per request x subject x owner x action), a read of one child's records of two types
 * is one event per owner; the grouping still orders them so that an owner with several (a READ
 * and a BREAK_GLASS, or several subjects) sees them consecutive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { agreementDocument, child, everythingQuery, publishMutation, setUpPartnership, signedBy, submitMutation, type Partnership } from './fixtures.js';

const [sibling] = validNhsNumbers(1, 620_000_000) as [string];

describe('security: the seq numbers an owner\'s DPO sees', () => {
  let hub: TestHub;
  let p: Partnership;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub);
    // camden also holds a demographic record and a children's case about the same child, shared with westminster.
    const published = await hub.gql(await p.camden.token(), publishMutation, {
      input: {
        demographics: [
          { externalId: 'cam-d-1', nhsNumber: child, givenName: 'Sam' },
          { externalId: 'cam-d-2', nhsNumber: sibling, givenName: 'Alex' },
        ],
        socialCareCases: [{ externalId: 'cam-c-1', nhsNumber: child, caseRef: 'CAM-1', service: 'CHILDREN', status: 'OPEN' }],
      },
    });
    expect(published.body).toEqual({ data: { publishRecords: { count: 3 } } });
    const kcSibling = await hub.gql(await p.kc.token(), publishMutation, { input: { demographics: [{ externalId: 'kc-d-2', nhsNumber: sibling, givenName: 'Alex' }] } });
    expect(kcSibling.body).toEqual({ data: { publishRecords: { count: 1 } } });
    const camdenShares = agreementDocument({ id: 'camden-shares', provider: 'camden', title: 'Camden shares' });
    const submitted = await hub.gql(await p.camden.token(), submitMutation, { e: await signedBy(camdenShares, p.camden, p.westminster) });
    expect(submitted.body).toEqual({ data: { submitAgreement: { id: 'camden-shares', version: 1, status: 'ACTIVE' } } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const seqsSeenBy = async (owner: typeof p.kc, requestId: string) => {
    const response = await hub.gql(
      await owner.token({ roles: ['dpo'], purpose: 'data-protection-oversight' }),
      `query { auditEvents(filter: { ownerOrg: "${owner.id}", action: READ }, first: 500) { edges { node { seq requestId } } } }`,
    );
    const edges = (response.body.data as { auditEvents: { edges: { node: { seq: string; requestId: string } }[] } }).auditEvents.edges;
    return edges.filter((e) => e.node.requestId === requestId).map((e) => Number(e.node.seq));
  };

  it('gives each owner\'s events of one request consecutive seq numbers, so no owner sees a gap inside the request', async () => {
    const response = await hub.gql(await p.westminster.token(), everythingQuery, { n: child }, { headers: { 'x-request-id': 'two-owners-one-child' } });
    expect((response.body.data as { subject: { demographics: unknown[]; socialCareCases: unknown[] } }).subject.demographics).toHaveLength(2);
    expect((response.body.data as { subject: { socialCareCases: unknown[] } }).subject.socialCareCases).toHaveLength(2);
    // One READ event per owner, listing its two records.
    for (const owner of [p.kc, p.camden]) expect(await seqsSeenBy(owner, 'two-owners-one-child')).toHaveLength(1);
    // Two subjects in one request: each owner's events (one per child) are consecutive.
    const twoChildren = `query Two($a: NHSNumber!, $b: NHSNumber!) { a: subject(nhsNumber: $a) { demographics { givenName } socialCareCases { caseRef } } b: subject(nhsNumber: $b) { demographics { givenName } socialCareCases { caseRef } } }`;
    const second = await hub.gql(await p.westminster.token(), twoChildren, { a: child, b: sibling }, { headers: { 'x-request-id': 'two-owners-two-children' } });
    expect(second.body.errors).toBeUndefined();
    for (const owner of [p.kc, p.camden]) {
      const seqs = await seqsSeenBy(owner, 'two-owners-two-children');
      expect(seqs).toHaveLength(2);
      expect(seqs[1]! - seqs[0]!, `${owner.id} sees seq ${seqs.join(', ')}`).toBe(1);
    }
  });
});
