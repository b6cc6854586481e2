import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgreementStore, verifyEnvelope, type KeyLookup, type StoredAgreement } from '../../src/agreements/index.js';
import { createAuditWriter, type AuditWriter } from '../../src/audit/index.js';
import { createOrganisationKeyStore, getOrganisation } from '../../src/auth/index.js';
import { fixedClock } from '../../src/clock.js';
import { rowsOf } from '../../src/db/index.js';
import { demoPartnership, emptyDatabase, readDemoKey, readDemoSeedRecord, seedDemo, type SeedDemoResult } from '../../src/sandbox/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const clock = fixedClock('2026-03-02T09:00:00Z');
const demo = demoPartnership({ referenceYear: 2026 });
let database: TestDatabase;
let dataDir: string;
let audit: AuditWriter;
let result: SeedDemoResult;
let agreements: StoredAgreement[];
let keyFor: KeyLookup;

async function count(table: string): Promise<number> {
  return Number(rowsOf<{ n: number }>(await database.db.execute(sql.raw(`select count(*)::int as n from "${table}"`)))[0]?.n);
}

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'accord-seed-'));
  audit = createAuditWriter(database.db, { clock });
  result = await seedDemo({ db: database.db, dataDir, clock, audit });
  const keys = createOrganisationKeyStore(database.db);
  keyFor = async (org, kid, alg) => {
    await keys.refresh();
    return await keys.getKey(org, kid, { alg, includeRetired: true });
  };
  agreements = await createAgreementStore(database.db, { clock, keyFor }).list();
}, 120_000);

afterAll(async () => {
  await audit?.close();
  await database?.close();
  if (dataDir !== undefined) await fs.rm(dataDir, { recursive: true, force: true });
});

describe('seedDemo', () => {
  it('reports what it seeded', () => {
    expect(result).toMatchObject({ seeded: true, referenceYear: 2026, organisations: 7, agreements: 8, people: 200 });
    expect(result.records).toBeGreaterThan(500);
  });

  it('registers every organisation with the public half of the private key it keeps, mode 0600', async () => {
    expect(await count('organisations')).toBe(7);
    for (const org of demo.organisations) {
      const privateJwk = await readDemoKey(dataDir, org.id);
      expect(privateJwk?.kty).toBe('OKP');
      expect(privateJwk?.crv).toBe('Ed25519');
      const registered = await getOrganisation(database.db, org.id);
      expect(registered?.keys.map((k) => [k.kid, k.jwk.x])).toEqual([[privateJwk?.kid, privateJwk?.x]]);
      const stat = await fs.stat(path.join(dataDir, 'demo-keys', `${org.id}.private.jwk.json`));
      expect(stat.mode & 0o777).toBe(0o600);
    }
    expect((await fs.stat(path.join(dataDir, 'demo-keys'))).mode & 0o777).toBe(0o700);
  });

  it('stores every agreement with the status its fate calls for', () => {
    const status = (id: string, version: number) => agreements.find((a) => a.id === id && a.version === version)?.status;
    expect(agreements).toHaveLength(8);
    expect(status('triborough-mash-children', 1)).toBe('SUPERSEDED');
    expect(status('triborough-mash-children', 2)).toBe('ACTIVE');
    expect(status('supporting-families-pilot', 1)).toBe('EXPIRED');
    expect(status('adult-safeguarding-to-police', 1)).toBe('REVOKED');
    for (const id of ['met-police-notifications-mash', 'school-attendance-safeguarding', 'gp-registration-safeguarding-leads', 'lbhf-housing-safeguarding']) {
      expect(status(id, 1), id).toBe('ACTIVE');
    }
    const revoked = agreements.find((a) => a.id === 'adult-safeguarding-to-police');
    expect(revoked?.revokedBy).toBe('westminster');
    expect(revoked?.revocation).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('stores envelopes signed by every party, which re-verify with the registered keys', async () => {
    for (const agreement of agreements) {
      const parties = [agreement.provider, ...agreement.recipients].sort();
      expect(agreement.signatures.map((s) => s.org).sort(), agreement.id).toEqual(parties);
      expect(agreement.signatures.every((s) => s.alg === 'EdDSA')).toBe(true);
      const verified = await verifyEnvelope(agreement.envelope, { keyFor });
      expect(verified.payloadHash).toBe(agreement.payloadHash);
    }
  });

  it('publishes every record of the partnership under its owner', async () => {
    const expected = (list: string) => demo.records.reduce((n, set) => n + ((set.input as Record<string, unknown[] | undefined>)[list]?.length ?? 0), 0);
    const tables = {
      demographics: 'demographics',
      socialCareCases: 'social_care_cases',
      schoolEnrolments: 'school_enrolments',
      housingTenancies: 'housing_tenancies',
      policeNotifications: 'police_notifications',
      gpRegistrations: 'gp_registrations',
    };
    let total = 0;
    for (const [list, table] of Object.entries(tables)) {
      const n = await count(table);
      expect(n, table).toBe(expected(list));
      expect(n, table).toBeGreaterThan(0);
      total += n;
    }
    expect(total).toBe(result.records);
    expect(await count('subjects')).toBe(200);
    const owners = rowsOf<{ owner_org: string }>(await database.db.execute(sql`select distinct owner_org from police_notifications`));
    expect(owners.map((r) => r.owner_org)).toEqual(['met-police']);
  });

  it('writes the submissions, the revocation and every publish to the audit trail', async () => {
    await audit.flush();
    const actions = rowsOf<{ action: string; n: number }>(await database.db.execute(sql`select action, count(*)::int as n from audit_events group by action order by action`));
    const counts = Object.fromEntries(actions.map((r) => [r.action, Number(r.n)]));
    expect(counts).toMatchObject({ AGREEMENT_REVOKE: 1, AGREEMENT_SUBMIT: 8 });
    // One PUBLISH event per person and owner in each publish call (CONTRACT §7), listing every
    // record published: together they list each record exactly once.
    const listed = rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from audit_events, jsonb_array_elements(records) where action = 'PUBLISH'`));
    expect(Number(listed[0]?.n)).toBe(result.records);
    expect(counts.PUBLISH).toBeLessThan(result.records);
  });

  it('records the reference year so the sandbox shows the examples of this seed', async () => {
    expect(await readDemoSeedRecord(dataDir)).toMatchObject({ referenceYear: 2026, organisations: demo.organisations.map((o) => o.id) });
  });

  it('does nothing on a database that already holds organisations', async () => {
    const before = await count('audit_events');
    const keyBefore = await readDemoKey(dataDir, 'westminster');
    const again = await seedDemo({ db: database.db, dataDir, clock, audit });
    expect(again.seeded).toBe(false);
    expect(await count('organisations')).toBe(7);
    expect(await count('agreements')).toBe(8);
    expect(await count('audit_events')).toBe(before);
    expect(await readDemoKey(dataDir, 'westminster')).toEqual(keyBefore);
  });

  it('can be emptied (audit trail included, despite its append-only trigger) and seeded again', async () => {
    await audit.flush();
    await emptyDatabase(database.db);
    for (const table of ['organisations', 'agreements', 'audit_events', 'demographics', 'subjects']) expect(await count(table), table).toBe(0);
    const reseeded = await seedDemo({ db: database.db, dataDir, clock });
    expect(reseeded.seeded).toBe(true);
    expect(await count('agreements')).toBe(8);
  });
});
