/**
 * Production mode masks what it did not expect: a real failure (a record table dropped under
 * the running hub) reaches the client as a generic message with the request id, no stack, no
 * SQL, no data, and is logged once with its cause for the operator.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { internalErrorMessage } from '../../src/graphql/format-error.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { child, codesOf, setUpPartnership, type Partnership } from './fixtures.js';

describe('security corpus: production mode masks unexpected errors', () => {
  let hub: TestHub;
  let p: Partnership;

  beforeAll(async () => {
    hub = await startTestHub({ mode: 'production', env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    p = await setUpPartnership(hub);
    // Broken for real: the table the police-notification loader reads is gone.
    await hub.database.db.execute(sql`drop table police_notifications cascade`);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it.each([
    ['the owner', () => p.kc.token(), `{ subject(nhsNumber: "${child}") { demographics { familyName } policeNotifications { reference summary } } }`],
    ['a recipient', () => p.westminster.token(), `{ subject(nhsNumber: "${child}") { demographics { givenName } policeNotifications { kind } } }`],
    ['anyone, through a fragment', () => p.camden.token(), `{ subject(nhsNumber: "${child}") { ...S } } fragment S on Subject { policeNotifications { ... on Record { id } } }`],
  ])('answers %s with a generic error carrying the request id, and nothing else', async (_name, token, query) => {
    const logged = vi.spyOn(hub.app.services.logger, 'error');
    try {
      const response = await hub.gql(await token(), query);
      const requestId = response.headers.get('x-request-id');
      expect(requestId).toMatch(/^[\w-]{8,}$/);
      expect(response.body.data ?? null).toBeNull();
      expect(codesOf(response)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(response.body.errors?.[0]?.message).toBe(internalErrorMessage);
      expect(response.body.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId });
      expect(response.text).not.toContain(p.canary);
      expect(response.text).not.toMatch(/police_notifications|relation|select|stack|\.ts:\d+|at [\w.]+ \(/i);
      // Logged once, with the request id and the cause, for the operator.
      const calls = logged.mock.calls.filter(([fields]) => (fields as { requestId?: string }).requestId === requestId);
      expect(calls).toHaveLength(1);
      expect(String((calls[0]?.[0] as { err?: unknown }).err)).toMatch(/police_notifications/);
    } finally {
      logged.mockRestore();
    }
  });

  it('keeps serving the record types that still work', async () => {
    const response = await hub.gql(await p.westminster.token(), `{ subject(nhsNumber: "${child}") { demographics { givenName } } }`);
    expect(response.body).toEqual({ data: { subject: { demographics: [{ givenName: 'Sam' }] } } });
  });
});
