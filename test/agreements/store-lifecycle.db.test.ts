/**
 * The agreement store over a real database, with real keys and signatures: submission and its
 * refusals, revocation and its refusals, and every lifecycle status as an injected clock moves.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgreementStore, signRevocation, type AgreementStore } from '../../src/agreements/index.js';
import { fixedClock } from '../../src/clock.js';
import { tables } from '../../src/db/index.js';
import { AccordError, InputError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { createPartnership, exampleDocument, registerPartnership, signedBy, type OrgKey, type Partnership } from './fixtures.js';

async function refusal(promise: Promise<unknown>): Promise<AccordError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AccordError);
  expect((error as AccordError).code).toBe('INVALID_AGREEMENT');
  return error as AccordError;
}

describe('agreement store', () => {
  let database: TestDatabase;
  let p: Partnership;
  let store: AgreementStore;
  const clock = fixedClock('2026-03-01T09:00:00Z');
  let sequence = 0;
  /** A fresh agreement id per test, so tests do not depend on each other's versions. */
  let id: string;

  const document = (version: number, overrides: Record<string, unknown> = {}) => exampleDocument({ id, version, ...overrides });
  const submit = async (version: number, overrides: Record<string, unknown> = {}, signers?: OrgKey[]) =>
    store.submit(await signedBy(document(version, overrides), ...(signers ?? [p.kc, p.westminster, p.met])), 'westminster');
  const revocation = (by: OrgKey, version: number, reason = 'Partnership dissolved') =>
    signRevocation({ agreement: id, version, reason, at: clock(), org: by.org, privateJwk: by.privateJwk });
  const generation = async () =>
    (await database.db.select({ g: tables.hubState.generation }).from(tables.hubState).where(eq(tables.hubState.key, 'agreements')))[0]?.g;
  const versionsStored = async () => (await database.db.select({ version: tables.agreements.version }).from(tables.agreements).where(eq(tables.agreements.id, id))).map((r) => r.version).sort();

  beforeAll(async () => {
    database = await createTestDatabase();
    p = await createPartnership();
    await registerPartnership(database.db, p);
    store = createAgreementStore(database.db, { clock, keyFor: p.keyFor });
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(() => {
    sequence += 1;
    id = `isa-${sequence}`;
    clock.set('2026-03-01T09:00:00Z');
  });

  it('stores a fully signed agreement as received, with its hash and signers, and bumps the generation', async () => {
    const before = await generation();
    const envelope = await signedBy(document(1), p.kc, p.westminster, p.met);
    const stored = await store.submit(envelope, 'westminster');
    expect(stored).toMatchObject({
      id,
      version: 1,
      provider: 'kensington-chelsea',
      recipients: ['westminster', 'met-police'],
      status: 'ACTIVE',
      submittedBy: 'westminster',
      submittedAt: new Date('2026-03-01T09:00:00Z'),
      revokedAt: null,
      reviewBy: '2027-06-30',
    });
    expect(stored.envelope).toEqual(envelope);
    expect(stored.payloadHash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.signatures.map((s) => s.org)).toEqual(['kensington-chelsea', 'westminster', 'met-police']);
    expect(await generation()).toBe((before ?? 0) + 1);
    expect(await store.get(id)).toEqual(stored);
  });

  it('refuses a version that is already stored, and keeps the first', async () => {
    const first = await submit(1);
    const error = await refusal(submit(1, { title: 'A different title' }));
    expect(error.message).toBe(`agreement ${id} version 1 already exists`);
    expect(await store.get(id, 1)).toMatchObject({ title: first.title, payloadHash: first.payloadHash });
  });

  it('refuses a version lower than the highest stored', async () => {
    await submit(3);
    const error = await refusal(submit(2));
    expect(error.message).toBe(`agreement ${id} version 2 is not higher than the stored version 3`);
    expect(await versionsStored()).toEqual([3]);
  });

  it('refuses a new version from another provider (it would switch off someone else’s agreement)', async () => {
    await submit(1);
    const error = await refusal(
      submit(2, { provider: 'camden', recipients: [{ org: 'westminster' }] }, [p.camden, p.westminster]),
    );
    expect(error.message).toMatch(/belongs to provider kensington-chelsea/);
    expect(await versionsStored()).toEqual([1]);
  });

  it('tells a submitter that is party to no stored version only that the id is taken, whatever the version', async () => {
    await submit(1);
    await submit(2);
    for (const version of [1, 2, 9]) {
      const camdens = await signedBy(document(version, { provider: 'camden', recipients: [{ org: 'met-police' }] }), p.camden, p.met);
      const error = await refusal(store.submit(camdens, 'camden'));
      expect(error.message).toBe(`the agreement id ${id} is already used by an agreement camden is not a party to: choose another id`);
    }
    expect(await versionsStored()).toEqual([1, 2]);
  });

  it('lets a recipient a new version adds submit it: the provider signed it', async () => {
    await submit(1, { recipients: [{ org: 'westminster' }] }, [p.kc, p.westminster]);
    const v2 = await signedBy(document(2), p.kc, p.westminster, p.met);
    expect(await store.submit(v2, 'met-police')).toMatchObject({ id, version: 2, submittedBy: 'met-police' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unregistered recipient', { recipients: [{ org: 'westminster' }, { org: 'nowhere-council' }] }, 'recipients[1].org'],
    ['no scope', { scope: [] }, 'scope'],
    ['special-category data without an Art 9 basis', { lawfulBasis: { article6: 'public-task', article10: 'dpa2018-sch1-pt2-para18' } }, 'lawfulBasis.article9'],
  ])('refuses a document with %s, naming the rule, and stores nothing', async (_name, overrides, path) => {
    const error = await store.submit(await signedBy(document(1, overrides), p.kc, p.westminster, p.met), 'westminster').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('INVALID_AGREEMENT');
    expect((error as InputError).problems.map((problem) => problem.path)).toContain(path);
    expect(await versionsStored()).toEqual([]);
  });

  it('refuses an envelope a party did not sign, and stores nothing', async () => {
    const error = await refusal(submit(1, {}, [p.kc, p.westminster]));
    expect(error.message).toBe('no valid signature from recipient met-police');
    expect(await versionsStored()).toEqual([]);
  });

  describe('revocation', () => {
    it('by the provider or a recipient, recorded with who, why and the signed JWS', async () => {
      await submit(1);
      const jws = await revocation(p.met, 1);
      clock.advance(60_000);
      const revoked = await store.revoke(jws);
      expect(revoked).toMatchObject({ status: 'REVOKED', revokedBy: 'met-police', revocationReason: 'Partnership dissolved', revocation: jws, revokedAt: new Date('2026-03-01T09:01:00Z') });
      expect(await store.get(id, 1)).toMatchObject({ status: 'REVOKED' });
    });

    it('refuses a revocation by an organisation that is not a party', async () => {
      await submit(1);
      const error = await refusal(store.revoke(await revocation(p.camden, 1)));
      expect(error.message).toBe(`camden is not a party to agreement ${id} version 1 and cannot revoke it`);
      expect(await store.get(id, 1)).toMatchObject({ status: 'ACTIVE', revokedAt: null });
    });

    it('refuses to revoke twice and keeps the first revocation', async () => {
      await submit(1);
      const first = await revocation(p.kc, 1, 'First reason');
      await store.revoke(first);
      const error = await refusal(store.revoke(await revocation(p.westminster, 1, 'Second reason')));
      expect(error.message).toBe(`agreement ${id} version 1 is already revoked`);
      expect(await store.get(id, 1)).toMatchObject({ revokedBy: 'kensington-chelsea', revocationReason: 'First reason', revocation: first });
    });

    it('refuses a version that does not exist', async () => {
      await submit(1);
      expect((await refusal(store.revoke(await revocation(p.kc, 2)))).message).toBe(`agreement ${id} version 2 does not exist`);
    });

    it('refuses a revocation dated in the future', async () => {
      await submit(1);
      const jws = await signRevocation({ agreement: id, version: 1, reason: 'later', at: new Date('2026-03-02T00:00:00Z'), org: p.kc.org, privateJwk: p.kc.privateJwk });
      expect((await refusal(store.revoke(jws))).message).toBe('the revocation is dated in the future');
    });

    it('refuses a revocation signed with a key the organisation never registered', async () => {
      await submit(1);
      const stranger = { ...p.camden, org: 'westminster' };
      expect((await refusal(store.revoke(await revocation(stranger, 1)))).message).toMatch(/westminster has no registered key "camden-1"/);
    });
  });

  describe('lifecycle through the clock', () => {
    it.each([
      ['2025-12-31T23:59:59Z', 'PENDING'],
      ['2026-01-01T00:00:00Z', 'ACTIVE'],
      ['2027-06-30T23:59:59Z', 'ACTIVE'],
      ['2027-07-01T00:00:00Z', 'SUSPENDED'],
      ['2028-01-01T00:00:00Z', 'EXPIRED'],
    ])('at %s the agreement is %s', async (at, status) => {
      await submit(1);
      clock.set(at);
      expect((await store.get(id))?.status).toBe(status);
      expect((await store.list({ status: status as never })).map((a) => a.id)).toContain(id);
    });

    it('a new version supersedes the old when active; revoking it makes the old one ACTIVE again', async () => {
      await submit(1);
      await submit(2, { validFrom: '2026-04-01T00:00:00Z' });
      const statuses = async () => (await store.list({ party: 'met-police' })).filter((a) => a.id === id).map((a) => `v${a.version} ${a.status}`);
      expect(await statuses()).toEqual(['v2 PENDING', 'v1 ACTIVE']);
      clock.set('2026-04-01T00:00:00Z');
      expect(await statuses()).toEqual(['v2 ACTIVE', 'v1 SUPERSEDED']);
      expect((await store.get(id))?.version).toBe(2);
      await store.revoke(await revocation(p.westminster, 2));
      expect(await statuses()).toEqual(['v2 REVOKED', 'v1 ACTIVE']);
    });

    it('lists only the agreements an organisation is party to', async () => {
      await submit(1);
      expect((await store.list({ party: 'westminster' })).map((a) => a.id)).toContain(id);
      expect((await store.list({ party: 'camden' })).map((a) => a.id)).not.toContain(id);
    });
  });
});
