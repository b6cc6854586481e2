/**
 * The 10,000 agreements of scenario (d) and of the --scale figures: among 200 extra
 * organisations, each signed by both parties with real keys and submitted through the real
 * agreement store. One in ten also names Westminster as a recipient, for purposes other than
 * the reader's, so the reader's organisation holds a thousand grants that the index must skip.
 *
 * They are submitted once, then *parked* in a side table of the bench database so the same
 * rows can be switched in (scenario d) and out (a, b, c) of the store between runs; each switch
 * bumps the `agreements` generation, exactly as a submission does, so every hub instance reloads
 * its decision index at its next request.
 */
import type { JWK } from 'jose';
import type postgres from 'postgres';
import type { AgreementDocument } from '../../src/agreements/index.js';
import type { Clock } from '../../src/clock.js';
import type { Db } from '../../src/db/index.js';
import { agreementStoreFor, registerOrganisations, signByEveryParty } from './partnership.js';
import { log, progress } from './progress.js';

const fillerOrgCount = 200;
const fillerPrefix = 'bench-filler-';

function fillerOrg(i: number): string {
  return `filler-org-${String(i % fillerOrgCount).padStart(3, '0')}`;
}

function fillerDocument(i: number, now: Date): AgreementDocument {
  const year = 365 * 24 * 3600 * 1000;
  const provider = fillerOrg(i);
  // 1 + (i % 199) is never a multiple of 200: the recipient is never the provider.
  const recipients = [{ org: fillerOrg((i % fillerOrgCount) + 1 + (i % (fillerOrgCount - 1))), roles: ['case-worker'] }];
  if (i % 10 === 0) recipients.push({ org: 'westminster', roles: ['social-worker'] });
  return {
    type: 'accord.isa/v1',
    id: `${fillerPrefix}${String(i).padStart(5, '0')}`,
    version: 1,
    title: `Filler agreement ${i}`,
    provider,
    recipients,
    purposes: [{ code: `filler-purpose-${i % 50}`, description: 'Another partnership purpose' }],
    lawfulBasis: { article6: 'public-task', legislation: ['Local Government Act 1972 s111'] },
    dataSubjects: ['residents'],
    scope: [
      { recordType: 'Demographics', fields: ['givenName', 'familyName', 'postcode'] },
      { recordType: 'HousingTenancy', fields: ['tenancyRef', 'startedOn', 'rentArrears'], where: { field: 'rentArrears', op: 'eq', value: true } },
    ],
    validFrom: new Date(now.getTime() - year).toISOString(),
    validUntil: new Date(now.getTime() + 2 * year).toISOString(),
    reviewBy: new Date(now.getTime() + year).toISOString().slice(0, 10),
    retention: 'P1Y',
  };
}

export interface FillerAgreements {
  readonly count: number;
  /** Puts the agreements into the store (the next request of every hub reloads its index). */
  enable(): Promise<void>;
  /** Takes them out again. */
  disable(): Promise<void>;
}

/**
 * Submits `count` filler agreements (concurrently, through the store) and parks them.
 * Agreements between other organisations never touch the reader's records, so the responses of
 * scenario (d) are identical to those of (b).
 */
export async function createFillerAgreements(db: Db, sql: postgres.Sql, clock: Clock, count: number, keys: Map<string, JWK>): Promise<FillerAgreements> {
  const orgs = Array.from({ length: fillerOrgCount }, (_, i) => ({ id: fillerOrg(i), name: `Filler organisation ${i}`, kind: 'OTHER' as const }));
  for (const [id, key] of await registerOrganisations(db, orgs, clock)) keys.set(id, key);
  const store = agreementStoreFor(db, clock);
  const shown = progress('filler agreements (signed by every party, submitted through the store)', count, 'agreements');
  let next = 0;
  let done = 0;
  const now = clock();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < count; i = next++) {
        await store.submit(await signByEveryParty(fillerDocument(i, now), keys), 'hub');
        shown.update((done += 1));
      }
    }),
  );
  shown.finish();
  await sql.unsafe(`create table bench_parked_agreements as select * from agreements where id like '${fillerPrefix}%'`);
  let enabled = true;

  async function bump(tx: postgres.TransactionSql): Promise<void> {
    await tx`update hub_state set generation = generation + 1 where key = 'agreements'`;
  }
  const filler = {
    count,
    async enable() {
      if (enabled) return;
      await sql.begin(async (tx) => {
        await tx.unsafe('insert into agreements select * from bench_parked_agreements');
        await bump(tx);
      });
      enabled = true;
      log(`  ${count.toLocaleString('en-GB')} filler agreements switched in`);
    },
    async disable() {
      if (!enabled) return;
      await sql.begin(async (tx) => {
        await tx.unsafe(`delete from agreements where id like '${fillerPrefix}%'`);
        await bump(tx);
      });
      enabled = false;
      log('  filler agreements switched out');
    },
  };
  return filler;
}
