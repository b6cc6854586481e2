/**
 * Per-organisation rate limits over HTTP: a hub started with a partnership default of 2 requests
 * a second and a burst of 2, on a clock that only moves when the test moves it, so every bucket
 * is exact. Over the limit: 429 RATE_LIMITED with Retry-After, and no data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setOrganisationRateLimit } from '../../src/auth/index.js';
import { makeOrg, signRaw, type TestOrg } from '../helpers/keys.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { child, everythingQuery, expectRefused, newCanary, publishMutation } from './fixtures.js';

describe('security corpus: rate limits', () => {
  let hub: TestHub;
  let nowMs = Date.parse('2026-03-02T10:00:00Z');
  const clock = () => new Date(nowMs);
  const canary = newCanary();
  const orgs = new Map<string, TestOrg>();

  beforeAll(async () => {
    hub = await startTestHub({ clock, env: { ACCORD_RATE_LIMIT_PER_SECOND: '2', ACCORD_RATE_LIMIT_BURST: '2' } });
    for (const id of ['default-council', 'burst-council', 'slow-council', 'refill-council', 'victim-council', 'other-council']) {
      const org = await makeOrg(hub.database.db, id, { clock });
      orgs.set(id, org);
    }
    await setOrganisationRateLimit(hub.database.db, 'burst-council', { perSecond: 2, burst: 5 }, clock);
    await setOrganisationRateLimit(hub.database.db, 'slow-council', { perSecond: 1, burst: 1 }, clock);
    // The victim's own records: a 429 that carried data would show its canary.
    const victim = orgs.get('victim-council') as TestOrg;
    const published = await hub.gql(await victim.token(), publishMutation, { input: { demographics: [{ externalId: 'v-1', nhsNumber: child, givenName: canary }] } });
    expect(published.body).toEqual({ data: { publishRecords: { count: 1 } } });
    nowMs += 10_000;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const org = (id: string) => orgs.get(id) as TestOrg;
  const ask = async (id: string) => await hub.gql(await org(id).token(), '{ me { organisation { id } } }');

  it.each([
    ['the partnership default (2/s, burst 2)', 'default-council', [200, 200, 429]],
    ['an organisation\'s own larger burst (2/s, burst 5)', 'burst-council', [200, 200, 200, 200, 200, 429]],
    ['an organisation\'s own smaller limit (1/s, burst 1)', 'slow-council', [200, 429, 429]],
  ])('enforces %s', async (_name, id, statuses) => {
    const seen: number[] = [];
    for (const _ of statuses) {
      const response = await ask(id);
      seen.push(response.status);
      if (response.status === 429) {
        expectRefused(response, 429, 'RATE_LIMITED', canary, /too many requests/);
        expect(response.headers.get('retry-after')).toBe('1');
      } else {
        expect(response.body).toEqual({ data: { me: { organisation: { id } } } });
      }
    }
    expect(seen).toEqual(statuses);
  });

  it('refills at the organisation\'s rate as its clock moves', async () => {
    expect((await ask('refill-council')).status).toBe(200);
    expect((await ask('refill-council')).status).toBe(200);
    expect((await ask('refill-council')).status).toBe(429);
    nowMs += 500;
    expect((await ask('refill-council')).status).toBe(200);
    expect((await ask('refill-council')).status).toBe(429);
  });

  it('keys buckets by the verified organisation: forged tokens cannot spend a victim\'s budget', async () => {
    const attacker = org('other-council');
    for (let i = 0; i < 5; i += 1) {
      const forged = await signRaw(attacker.privateJwk, { iss: 'victim-council', sub: 'x', aud: 'accord-hub', iat: nowMs / 1000, exp: nowMs / 1000 + 60, jti: `forged-${i}`, purpose: 'p', roles: [] }, { kid: org('victim-council').kid });
      expectRefused(await hub.gql(forged, everythingQuery, { n: child }), 401, 'UNAUTHENTICATED', canary);
    }
    const first = await hub.gql(await org('victim-council').token(), everythingQuery, { n: child });
    expect(first.status).toBe(200);
    expect(first.text).toContain(canary);
    expect((await hub.gql(await org('victim-council').token(), everythingQuery, { n: child })).status).toBe(200);
    expectRefused(await hub.gql(await org('victim-council').token(), everythingQuery, { n: child }), 429, 'RATE_LIMITED', canary);
  });

  it('applies a changed per-organisation limit from the first request after the change', async () => {
    nowMs += 10_000;
    await setOrganisationRateLimit(hub.database.db, 'default-council', { perSecond: 1, burst: 3 }, clock);
    // The limit is read from memory (no round trip per request); the first request's commit finds
    // the organisations changed and the instance reloads them, so from then on the new limit holds.
    expect((await ask('default-council')).status).toBe(200);
    nowMs += 10_000;
    expect([await ask('default-council'), await ask('default-council'), await ask('default-council'), await ask('default-council')].map((r) => r.status)).toEqual([200, 200, 200, 429]);
  });
});
