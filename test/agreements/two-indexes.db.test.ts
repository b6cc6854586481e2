/**
 * Two decision indexes on one database, as two hub instances have (on PostgreSQL each over its
 * own connection pool): a change made through one instance's store is seen by the other at its
 * next `refresh()`, and not before — a request decides on one consistent snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgreementStore, createDecisionIndex, signRevocation, type DecisionIndex } from '../../src/agreements/index.js';
import { fixedClock } from '../../src/clock.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { createPartnership, exampleDocument, registerPartnership, signedBy, type Partnership } from './fixtures.js';

const caller = { org: 'westminster', purpose: 'safeguarding-children', roles: ['social-worker'], breakGlass: undefined };
const kcRecord = { ownerOrg: 'kensington-chelsea', givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: '2012-03-04', postcode: 'W2 1AA' };
const sees = (index: DecisionIndex) => [...index.forCaller(caller).decide('Demographics', kcRecord).fields].sort();

describe('two decision indexes on one database', () => {
  let first: TestDatabase;
  let second: Database;
  let p: Partnership;
  const clock = fixedClock('2026-03-01T09:00:00Z');

  beforeAll(async () => {
    first = await createTestDatabase();
    second = await first.reopen();
    p = await createPartnership();
    await registerPartnership(first.db, p);
  });
  afterAll(async () => {
    if (second !== (first as Database)) await second.close();
    await first.close();
  });

  it('a submission, a new version and a revocation through one instance take effect at the other’s next refresh', async () => {
    const storeA = createAgreementStore(first.db, { clock, keyFor: p.keyFor });
    const indexA = createDecisionIndex(first.db, { clock });
    const indexB = createDecisionIndex(second.db, { clock });
    await Promise.all([indexA.refresh(), indexB.refresh()]);
    expect(sees(indexB)).toEqual([]);

    await storeA.submit(await signedBy(exampleDocument(), p.kc, p.westminster, p.met), 'kensington-chelsea');
    expect(sees(indexB)).toEqual([]); // not yet refreshed: the snapshot of its current request stands
    await indexB.refresh();
    expect(sees(indexB)).toEqual(['dateOfBirth', 'familyName', 'givenName', 'postcode']);
    expect(indexB.generation).toBeGreaterThan(0);

    const narrower = exampleDocument({ version: 2, scope: [{ recordType: 'Demographics', fields: ['givenName'] }] });
    await storeA.submit(await signedBy(narrower, p.kc, p.westminster, p.met), 'kensington-chelsea');
    await indexB.refresh();
    expect(sees(indexB)).toEqual(['givenName']);

    const revocation = await signRevocation({ agreement: 'triborough-mash-children', version: 2, reason: 'Scope under review', at: clock(), org: 'met-police', privateJwk: p.met.privateJwk });
    await storeA.revoke(revocation);
    const generationBefore = indexB.generation;
    expect(sees(indexB)).toEqual(['givenName']);
    await indexB.refresh();
    expect(indexB.generation).toBeGreaterThan(generationBefore ?? 0);
    // v2 revoked after it took effect: the sharing stops; v1 stays SUPERSEDED.
    expect(sees(indexB)).toEqual([]);

    await storeA.submit(await signedBy(exampleDocument({ version: 3 }), p.kc, p.westminster, p.met), 'kensington-chelsea');
    await indexB.refresh();
    expect(sees(indexB)).toEqual(['dateOfBirth', 'familyName', 'givenName', 'postcode']);

    await storeA.revoke(await signRevocation({ agreement: 'triborough-mash-children', version: 3, reason: 'Partnership ended', at: clock(), org: 'kensington-chelsea', privateJwk: p.kc.privateJwk }));
    await indexB.refresh();
    expect(sees(indexB)).toEqual([]);
    expect(indexB.forCaller(caller).decide('Demographics', kcRecord).visible).toBe(false);
  });

  it('time passing a validity bound needs no reload: the status is computed at each request’s instant', async () => {
    const index = createDecisionIndex(second.db, { clock });
    await index.refresh();
    const snapshot = index.snapshot;
    const store = createAgreementStore(first.db, { clock, keyFor: p.keyFor });
    await store.submit(await signedBy(exampleDocument({ id: 'short-lived', validUntil: '2026-03-01T10:00:00Z', reviewBy: undefined }), p.kc, p.westminster, p.met), 'kensington-chelsea');
    await index.refresh();
    expect(index.snapshot).not.toBe(snapshot);
    const loaded = index.snapshot;
    expect(index.forCaller(caller, new Date('2026-03-01T09:59:59Z')).decide('Demographics', kcRecord).sharedUnder.map((r) => r.id)).toEqual(['short-lived']);
    expect(index.forCaller(caller, new Date('2026-03-01T10:00:01Z')).decide('Demographics', kcRecord).visible).toBe(false);
    await index.refresh();
    expect(index.snapshot).toBe(loaded); // generation unchanged: nothing reloaded
  });

  it('forCaller before the first refresh is a programming error, not a silent empty index', () => {
    expect(() => createDecisionIndex(second.db, { clock }).forCaller(caller)).toThrow(/refresh\(\) first/);
  });
});
