/**
 * Finding 2 of the red-team review: automatic persisted queries were on, and Apollo's cache of
 * documents by hash was shared by every organisation. A document one organisation sent with its
 * hash could be run, or probed for, by another sending only the hash (and the audit's
 * `queryHash` was that very hash, so a DPO could replay a document whose literals it may not
 * see). Every request must carry its document (CONTRACT §5): the extension is refused, the same
 * way whoever sends it and whether or not the hash was seen before, and nothing runs.
 */
import { createHash } from 'node:crypto';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/db/tables.js';
import { startTestHub, type GraphQLResponse, type TestHub } from '../helpers/test-hub.js';
import { child, codesOf, setUpPartnership, type Partnership } from './fixtures.js';

/** A document with a literal NHS number in it: what a replay would disclose. */
const document = `{ subject(nhsNumber: "${child}") { demographics { externalId givenName } socialCareCases { caseRef } } }`;
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

describe('security: persisted queries', () => {
  let hub: TestHub;
  let p: Partnership;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  async function post(token: string, body: Record<string, unknown>): Promise<GraphQLResponse> {
    const response = await fetch(`${hub.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as GraphQLResponse['body'], text };
  }

  async function get(token: string, params: Record<string, unknown>): Promise<GraphQLResponse> {
    const search = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
    // The preflight header gets past CSRF prevention, as a partner using GET must send it.
    const response = await fetch(`${hub.url}/graphql?${search.toString()}`, { headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as GraphQLResponse['body'], text };
  }

  const events = async () => (await hub.database.db.select({ n: count() }).from(auditEvents))[0]?.n;

  /** Refused whole, before anything runs: 400 BAD_USER_INPUT, no data, and the same words every time. */
  function expectRefused(response: GraphQLResponse): void {
    expect({ status: response.status, codes: codesOf(response) }).toEqual({ status: 400, codes: ['BAD_USER_INPUT'] });
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors?.[0]?.message).toMatch(/persisted queries are not accepted: send the query document itself/);
    expect(response.text).not.toContain('Sam');
    expect(response.text).not.toContain('KC-CH-1');
    expect(response.text).not.toContain(p.canary);
  }

  it('refuses the document sent with its hash, and then the hash alone from another organisation, identically to an unknown hash', async () => {
    const before = await events();
    // westminster may see this child's records: with APQ on, its request registered the document.
    const registering = await post(await p.westminster.token(), { query: document, extensions: persisted(hashOf(document)) });
    expectRefused(registering);
    // camden has no agreement, and met-police sends only the hash: neither gets anything run.
    const replayed = await post(await p.camden.token(), { extensions: persisted(hashOf(document)) });
    expectRefused(replayed);
    const replayedByParty = await post(await p.westminster.token(), { extensions: persisted(hashOf(document)) });
    expectRefused(replayedByParty);
    // A probe for a hash nobody sent gets exactly the same answer: no oracle of what others asked.
    const probe = await post(await p.met.token(), { extensions: persisted(hashOf(`${document} `)) });
    expectRefused(probe);
    expect(probe.body).toEqual(replayed.body);
    expect(await events()).toBe(before);
  });

  it('refuses the extension over GET too, with or without the document', async () => {
    const before = await events();
    expectRefused(await get(await p.westminster.token(), { query: document, extensions: persisted(hashOf(document)) }));
    expectRefused(await get(await p.camden.token(), { extensions: persisted(hashOf(document)) }));
    expect(await events()).toBe(before);
  });

  it('refuses an extension of any version or shape, so no variant reaches a cache', async () => {
    expectRefused(await post(await p.camden.token(), { extensions: { persistedQuery: { version: 2, sha256Hash: hashOf(document) } } }));
    expectRefused(await post(await p.camden.token(), { query: document, extensions: { persistedQuery: null } }));
  });

  it('still answers the same document sent in full, as every request must be', async () => {
    const response = await hub.gql(await p.westminster.token(), document);
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ subject: { demographics: [{ externalId: 'kc-d-1', givenName: 'Sam' }], socialCareCases: [{ caseRef: 'KC-CH-1' }] } });
  });
});
