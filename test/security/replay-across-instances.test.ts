/**
 * A token is single-use across the whole deployment: two hub instances on one database (on
 * PostgreSQL each with its own connection pool and its own in-memory replay front) must never
 * both accept the same `jti`, one after the other or at the same moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { child, everythingQuery, expectRefused, setUpPartnership, type Partnership } from './fixtures.js';

type Gql = TestHub['gql'];

describe('security corpus: replay across instances', () => {
  let hub: TestHub;
  let p: Partnership;
  let first: Gql;
  let second: Gql;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub, { agreement: false });
    first = hub.gql;
    second = (await hub.startSecondInstance()).gql;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const use = (instance: Gql, token: string) => instance(token, everythingQuery, { n: child });

  it.each([
    ['used on the first instance, replayed on the second', () => [first, second] as const],
    ['used on the second instance, replayed on the first', () => [second, first] as const],
    ['used on one instance, replayed on the same one', () => [second, second] as const],
  ])('refuses a token %s', async (_name, instances) => {
    const [a, b] = instances();
    const token = await p.kc.token();
    const accepted = await use(a, token);
    expect(accepted.status).toBe(200);
    expect(accepted.text).toContain(p.canary);
    expectRefused(await use(b, token), 401, 'UNAUTHENTICATED', p.canary, /already been used/);
    expectRefused(await use(a, token), 401, 'UNAUTHENTICATED', p.canary, /already been used/);
  });

  it.each([
    ['both instances at once, four times each', () => [first, second, first, second, first, second, first, second]],
    ['one instance, eight times at once', () => Array.from({ length: 8 }, () => first)],
  ])('accepts a token presented to %s exactly once', async (_name, instances) => {
    const token = await p.kc.token();
    const responses = await Promise.all(instances().map((instance) => use(instance, token)));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
    for (const refused of responses.filter((r) => r.status === 401)) expectRefused(refused, 401, 'UNAUTHENTICATED', p.canary, /already been used/);
  });
});
