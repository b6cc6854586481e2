/**
 * Seeding the demo partnership into an empty database, through the same code paths a real
 * partnership uses: organisations registered with real Ed25519 keys, agreements signed by every
 * party with those keys and submitted to the real agreement store (which verifies every
 * signature), one revoked with a signed revocation, records published by their owners.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { JWK } from 'jose';
import { createAgreementStore, signAgreement, signRevocation, type AgreementEnvelope, type KeyLookup } from '../agreements/index.js';
import { writeEvents, type AuditEventInput, type AuditWriter } from '../audit/index.js';
import { createOrganisationKeyStore, generateSigningKey, registerOrganisation } from '../auth/index.js';
import type { Clock } from '../clock.js';
import { rowsOf, tables, type Db } from '../db/index.js';
import { publishRecords, recordTypes, type RecordType } from '../records/index.js';
import { maxPublishItems, type PublishInput, type PublishItem, type RecordListName } from '../records/validate-publish-input.js';
import { removeDemoKeys, writeDemoKey, writeDemoSeedRecord } from './demo-keys.js';
import { demoPartnership, type DemoAgreement, type DemoAgreementFate, type DemoPartnership } from './demo-partnership.js';

export interface SeedDemoOptions {
  readonly db: Db;
  /** Where the demo organisations' private keys are written (`<dataDir>/demo-keys/`). */
  readonly dataDir: string;
  readonly clock: Clock;
  readonly log?: (line: string) => void;
  /**
   * When given, the seed's agreement submissions, the revocation and every published record are
   * written to the audit trail like any other (actor: the hub, user `accord-demo-seed`).
   */
  readonly audit?: Pick<AuditWriter, 'append'>;
}

export interface SeedDemoResult {
  /** False when the database already holds organisations (nothing was touched). */
  readonly seeded: boolean;
  readonly referenceYear: number;
  readonly organisations: number;
  readonly agreements: number;
  readonly people: number;
  readonly records: number;
  readonly durationMs: number;
}

/** The status each fate must leave its agreement in; checked after seeding. */
const expectedStatus: Readonly<Record<DemoAgreementFate, string>> = {
  active: 'ACTIVE',
  expired: 'EXPIRED',
  revoked: 'REVOKED',
  superseded: 'SUPERSEDED',
};

const seedActor = { actorOrg: 'hub', actorUser: 'accord-demo-seed', actorRoles: ['hub-admin'] } as const;

async function organisationCount(db: Db): Promise<number> {
  const rows = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from ${tables.organisations}`));
  return Number(rows[0]?.n ?? 0);
}

/** Splits one owner's records into publish calls of at most `maxPublishItems` items (CONTRACT §5). */
function publishChunks(input: PublishInput): PublishInput[] {
  const chunks: PublishInput[] = [];
  let current: Partial<Record<RecordListName, PublishItem[]>> = {};
  let size = 0;
  for (const [list, items] of Object.entries(input) as [RecordListName, readonly PublishItem[] | null | undefined][]) {
    for (const item of items ?? []) {
      if (size === maxPublishItems) {
        chunks.push(current);
        current = {};
        size = 0;
      }
      (current[list] ??= []).push(item);
      size += 1;
    }
  }
  if (size > 0) chunks.push(current);
  return chunks;
}

/**
 * Seeds the demo partnership, only into a database with no organisations (otherwise it does
 * nothing and says so: a hub that holds real organisations is never touched). Safe to call on
 * every start. Throws when a step fails; the hub then refuses to start rather than serve half a
 * demo, and `accord demo reset` starts again from nothing.
 */
export async function seedDemo(options: SeedDemoOptions): Promise<SeedDemoResult> {
  const { db, dataDir, clock } = options;
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const referenceYear = clock().getUTCFullYear();
  const skipped = { seeded: false, referenceYear, organisations: 0, agreements: 0, people: 0, records: 0, durationMs: 0 };
  if ((await organisationCount(db)) > 0) {
    log('demo partnership: the database already holds organisations, so nothing was seeded');
    return skipped;
  }

  const demo = demoPartnership({ referenceYear });
  const audit = async (events: AuditEventInput[]) => {
    if (options.audit !== undefined && events.length > 0) await options.audit.append(events);
  };
  const requestId = `demo-seed-${referenceYear}`;

  // Keys left by an earlier seed belong to organisations that no longer exist in this database.
  await removeDemoKeys(dataDir);
  const privateKeys = new Map<string, JWK>();
  for (const org of demo.organisations) {
    const key = await generateSigningKey({ alg: 'EdDSA', kid: `${org.id}-demo-1` });
    await writeDemoKey(dataDir, org.id, key.privateJwk);
    privateKeys.set(org.id, key.privateJwk);
    await registerOrganisation(db, { id: org.id, name: org.name, kind: org.kind, jwks: key.publicJwks }, clock);
  }

  const keys = createOrganisationKeyStore(db);
  const keyFor: KeyLookup = async (org, kid, alg) => {
    await keys.refresh();
    return await keys.getKey(org, kid, { alg });
  };
  const store = createAgreementStore(db, { clock, keyFor });
  const keyOf = (org: string): JWK => {
    const key = privateKeys.get(org);
    if (key === undefined) throw new TypeError(`no demo key for ${org}`);
    return key;
  };

  for (const agreement of demo.agreements) {
    const stored = await store.submit(await signByEveryParty(agreement, keyOf), 'hub');
    await audit([
      {
        ...seedActor,
        requestId,
        action: 'AGREEMENT_SUBMIT',
        outcome: 'SUCCESS',
        ownerOrg: stored.provider,
        details: { agreement: { id: stored.id, version: stored.version, payloadHash: stored.payloadHash }, title: stored.title },
      },
    ]);
  }
  for (const agreement of demo.agreements) {
    if (agreement.revocation === undefined) continue;
    const { id, version } = agreement.document;
    const revocation = await signRevocation({
      agreement: id,
      version,
      reason: agreement.revocation.reason,
      at: clock(),
      org: agreement.revocation.by,
      privateJwk: keyOf(agreement.revocation.by),
    });
    const revoked = await store.revoke(revocation);
    await audit([
      {
        ...seedActor,
        requestId,
        action: 'AGREEMENT_REVOKE',
        outcome: 'SUCCESS',
        ownerOrg: revoked.provider,
        details: { agreement: { id: revoked.id, version: revoked.version, payloadHash: revoked.payloadHash }, revokedBy: agreement.revocation.by, reason: agreement.revocation.reason },
      },
    ]);
  }
  assertAgreementFates(demo, await store.list());

  let records = 0;
  for (const { owner, input } of demo.records) {
    for (const chunk of publishChunks(input)) {
      const outcome = await publishRecords(db, { owner, input: chunk, clock });
      records += outcome.count;
      await audit(
        writeEvents(
          { ...seedActor, requestId },
          'PUBLISH',
          owner,
          outcome.records.map((record) => ({
            nhsNumber: record.nhsNumber,
            recordType: record.recordType,
            recordId: record.id,
            sensitivity: recordTypes[record.recordType as RecordType].sensitivity,
            details: { externalId: record.externalId, created: record.created },
          })),
        ),
      );
    }
  }

  await writeDemoSeedRecord(dataDir, { referenceYear, seededAt: clock().toISOString(), organisations: demo.organisations.map((o) => o.id) });
  const result: SeedDemoResult = {
    seeded: true,
    referenceYear,
    organisations: demo.organisations.length,
    agreements: demo.agreements.length,
    people: demo.people.length,
    records,
    durationMs: Date.now() - started,
  };
  log(
    `demo partnership seeded in ${result.durationMs} ms: ${result.organisations} organisations, ${result.agreements} agreements, ` +
      `${result.people} synthetic people, ${result.records} records; demo keys in ${path.join(dataDir, 'demo-keys')}`,
  );
  return result;
}

/** Every party (provider first, then recipients) signs the same canonical document with its own key. */
async function signByEveryParty(agreement: DemoAgreement, keyOf: (org: string) => JWK): Promise<AgreementEnvelope> {
  const parties = [agreement.document.provider, ...agreement.document.recipients.map((r) => r.org)];
  let envelope: AgreementEnvelope | undefined;
  for (const org of parties) {
    envelope = await signAgreement({ document: agreement.document, envelope, org, privateJwk: keyOf(org) });
  }
  if (envelope === undefined) throw new TypeError(`agreement ${agreement.document.id} has no parties`);
  return envelope;
}

function assertAgreementFates(demo: DemoPartnership, stored: readonly { id: string; version: number; status: string }[]): void {
  for (const agreement of demo.agreements) {
    const { id, version } = agreement.document;
    const found = stored.find((a) => a.id === id && a.version === version);
    const expected = expectedStatus[agreement.fate];
    if (found?.status !== expected) {
      throw new Error(`demo seed: agreement ${id} v${version} is ${found?.status ?? 'missing'}, expected ${expected}`);
    }
  }
}

/**
 * Empties the partnership's tables (PostgreSQL) so the demo can be seeded again: organisations,
 * keys, agreements, records and the audit trail. The hub's own keys and the generation counters
 * stay (counters only ever move forward, so other instances still notice the change). The
 * audit tables refuse DELETE and TRUNCATE by trigger, so they are emptied with the triggers
 * disabled for this session only (`session_replication_role = replica`), which needs a superuser
 * or the table owner. Only `accord demo reset --yes` calls this.
 */
export async function emptyDatabase(db: Db): Promise<void> {
  const tableNames = [
    'audit_checkpoints',
    'audit_events',
    'token_replays',
    'agreements',
    'demographics',
    'social_care_cases',
    'school_enrolments',
    'housing_tenancies',
    'police_notifications',
    'gp_registrations',
    'subjects',
    'organisation_keys',
    'organisations',
  ];
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql.raw(`truncate table ${tableNames.map((name) => `"${name}"`).join(', ')}`));
  });
}

/** Deletes an embedded (PGlite) database's files under the data directory. */
export async function removeEmbeddedDatabase(dataDir: string): Promise<void> {
  await fs.rm(path.join(dataDir, 'pgdata'), { recursive: true, force: true });
}
