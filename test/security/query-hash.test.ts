/**
 * Finding 5 of the red-team review: the audit's `queryHash` was the plain SHA-256 of the query
 * document (Apollo's own hash), so anyone reading the trail could test guesses of the literals a
 * query held (another person's NHS number: ~10^9 candidates, minutes of work) offline. It is now
 * keyed (CONTRACT §7): `hmac-sha256:` and the HMAC-SHA-256 of the document under a key derived
 * with HKDF-SHA-256 (info "accord audit query-hash v1") from the hub signing key, which every
 * instance shares. The expected value is computed here from the key file with node:crypto alone,
 * as an auditor holding the hub key would. Events written before keep their plain hashes and the
 * chain still verifies.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/index.js';
import { auditEvents } from '../../src/db/tables.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { child, setUpPartnership, type Partnership } from './fixtures.js';

/** A literal NHS number in the document: what a plain hash would let a reader brute-force. */
const document = `query Lookup { subject(nhsNumber: "${child}") { demographics { givenName } } }`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('security: the audit query hash is keyed', () => {
  let hub: TestHub;
  let p: Partnership;
  let expected: string;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub);
    // The hub generated its signing key in its data directory; derive the audit key from it.
    const jwk = JSON.parse(fs.readFileSync(path.join(hub.dataDir, 'hub-signing-key.json'), 'utf8')) as { d: string };
    const key = Buffer.from(hkdfSync('sha256', Buffer.from(jwk.d, 'base64url'), Buffer.alloc(0), 'accord audit query-hash v1', 32));
    expected = `hmac-sha256:${createHmac('sha256', key).update(document, 'utf8').digest('hex')}`;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const hashesOf = async (requestId: string) =>
    (await hub.database.db.select({ queryHash: auditEvents.queryHash }).from(auditEvents).where(eq(auditEvents.requestId, requestId)).orderBy(asc(auditEvents.seq))).map((e) => e.queryHash);

  it('stores HMAC-SHA-256 under the hub key, never the SHA-256 of the document (Apollo\'s hash)', async () => {
    const response = await hub.gql(await p.westminster.token(), document, undefined, { headers: { 'x-request-id': 'query-hash-one' } });
    expect(response.body.data).toEqual({ subject: { demographics: [{ givenName: 'Sam' }] } });
    const hashes = await hashesOf('query-hash-one');
    expect(hashes).toEqual([expected]);
    expect(hashes[0]).not.toContain(sha256(document));
    // Nor what a reader could compute by guessing: the document with any other NHS number.
    expect(hashes[0]).not.toBe(`hmac-sha256:${sha256(document)}`);
  });

  it('is the same from a second instance on the same database and key', async () => {
    const second = await hub.startSecondInstance();
    const response = await second.gql(await p.westminster.token(), document, undefined, { headers: { 'x-request-id': 'query-hash-two' } });
    expect(response.body.data).toEqual({ subject: { demographics: [{ givenName: 'Sam' }] } });
    expect(await hashesOf('query-hash-two')).toEqual([expected]);
  });

  it('is what a DPO reads, and differs for a different document', async () => {
    const other = document.replace('givenName', 'givenName dateOfBirth');
    const response = await hub.gql(await p.westminster.token(), other, undefined, { headers: { 'x-request-id': 'query-hash-three' } });
    expect(response.body).toEqual({ data: { subject: { demographics: [{ givenName: 'Sam', dateOfBirth: expect.any(String) }] } } });
    const [otherHash] = await hashesOf('query-hash-three');
    expect(otherHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(otherHash).not.toBe(expected);
    const dpo = await hub.gql(
      await p.kc.token({ roles: ['dpo'], purpose: 'data-protection-oversight' }),
      'query { auditEvents(filter: { actorOrg: "westminster", action: READ }) { edges { node { requestId queryHash } } } }',
    );
    const nodes = (dpo.body.data as { auditEvents: { edges: { node: { requestId: string; queryHash: string } }[] } }).auditEvents.edges.map((e) => e.node);
    expect(nodes.filter((n) => n.requestId.startsWith('query-hash-')).map((n) => n.queryHash)).toEqual([expected, expected, otherHash]);
  });

  it('leaves events written with a plain SHA-256 as they are, and the chain verifies', async () => {
    await hub.app.services.audit.append([
      { requestId: 'written-before-keying', actorOrg: 'westminster', action: 'READ', outcome: 'SUCCESS', ownerOrg: 'kensington-chelsea', queryHash: sha256(document) },
    ]);
    expect(await hashesOf('written-before-keying')).toEqual([sha256(document)]);
    expect(await verifyChain(hub.database.db)).toMatchObject({ intact: true });
  });
});
