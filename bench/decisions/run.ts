/**
 * Decisions per second with 10 and with 10,000 active agreements, in one run (issue 3 item 9).
 *
 *   npx tsx bench/decisions/run.ts [--seconds 2] [--rounds 5]
 *
 * Not part of `npm test`. The index is the real one (`buildDecisionIndex`, which
 * `createDecisionIndex` builds from the agreements table), over generated documents that all pass
 * `validateAgreement`; signatures are skipped because the index never sees them (the store
 * verifies envelopes once, on submission).
 *
 * Both indexes hold the same five agreements that apply to the benchmark caller. The 10,000 set
 * adds 9,995 that do not, chosen to be as close to the caller's keys as possible without matching:
 * the caller's organisation as recipient for other purposes, as provider, other organisations for
 * the caller's own purpose, agreements not yet in force. A "decision" is one `decide()` on one
 * record; each simulated request first builds the caller's decisions (`forCaller`, once per
 * request in the hub) and then decides 24 records of every type, so its cost is included.
 *
 * Rounds alternate 10 / 10,000 and the median of each is reported, so a noisy neighbour on a
 * shared machine hits both alike. Target: ratio (10,000 / 10) >= 0.95.
 */
import { parseArgs } from 'node:util';
import {
  buildDecisionIndex,
  canonicalJson,
  payloadHash,
  validateAgreement,
  type AgreementDocument,
  type DecisionCaller,
  type DecisionSnapshot,
  type IndexableAgreement,
} from '../../src/agreements/index.js';
import { recordTypeList, type RecordType } from '../../src/records/index.js';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '5' } },
});
const secondsPerRound = Number(args.seconds);
const rounds = Number(args.rounds);

const now = new Date('2026-06-01T12:00:00Z');
const caller: DecisionCaller = { org: 'westminster', purpose: 'safeguarding-children', roles: ['social-worker'], breakGlass: undefined };
const providers = ['kensington-chelsea', 'camden', 'hammersmith-fulham'];
const lawfulBasis = { article6: 'public-task', article9: 'substantial-public-interest', article10: 'dpa2018-sch1-pt2-para18' };

function document(fields: Partial<AgreementDocument> & Pick<AgreementDocument, 'id' | 'provider' | 'recipients' | 'purposes' | 'scope'>): AgreementDocument {
  return validateAgreement(
    {
      type: 'accord.isa/v1',
      version: 1,
      title: fields.id,
      lawfulBasis,
      dataSubjects: ['children'],
      validFrom: '2026-01-01T00:00:00Z',
      validUntil: '2027-12-31T23:59:59Z',
      reviewBy: '2027-06-30',
      retention: 'P2Y',
      ...fields,
    },
    { isRegisteredOrg: () => true },
  );
}

/** The five agreements that decide for the benchmark caller, in both sets. */
function relevantAgreements(): AgreementDocument[] {
  const recipients = [{ org: caller.org, roles: ['social-worker', 'safeguarding-lead'] }];
  const purposes = [{ code: caller.purpose }];
  return [
    document({ id: 'mash-kc', provider: 'kensington-chelsea', recipients, purposes, scope: [
      { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth'] },
      { recordType: 'SocialCareCase', fields: ['caseRef', 'service', 'status'], where: { field: 'service', op: 'eq', value: 'CHILDREN' } },
    ] }),
    document({ id: 'mash-kc-housing', provider: 'kensington-chelsea', recipients, purposes, scope: [
      { recordType: 'HousingTenancy', fields: ['tenancyRef', 'rentArrears'], where: { all: [{ field: 'rentArrears', op: 'eq', value: true }, { field: 'subject.ageYears', op: 'lt', value: 18 }] } },
    ] }),
    document({ id: 'mash-camden', provider: 'camden', recipients, purposes, breakGlass: { allowed: true, roles: ['safeguarding-lead'] }, scope: [
      { recordType: 'Demographics', fields: ['givenName', 'postcode'] },
      { recordType: 'SchoolEnrolment', fields: ['schoolName', 'yearGroup', 'attendancePercent'], where: { field: 'attendancePercent', op: 'lt', value: 90 } },
    ] }),
    document({ id: 'mash-hf', provider: 'hammersmith-fulham', recipients, purposes, scope: [
      { recordType: 'PoliceNotification', fields: ['reference', 'kind', 'riskLevel'], where: { any: [{ field: 'riskLevel', op: 'eq', value: 'HIGH' }, { field: 'kind', op: 'in', value: ['CHILD_CONCERN', 'MISSING_PERSON'] }] } },
    ] }),
    document({ id: 'mash-hf-gp', provider: 'hammersmith-fulham', recipients, purposes, scope: [{ recordType: 'GpRegistration', fields: ['practiceName'] }] }),
  ];
}

/** Agreements the index must hold but that never decide for the caller, as near to its keys as possible. */
function noiseAgreement(i: number): AgreementDocument {
  const other = (n: number) => `org-${String(n % 400).padStart(3, '0')}`;
  const scope = [recordTypeList[i % recordTypeList.length], recordTypeList[(i + 2) % recordTypeList.length]].map((info) => ({
    recordType: info!.name,
    fields: info!.fields.slice(0, 2).map((f) => f.name),
  }));
  switch (i % 4) {
    case 0: // the caller's organisation as recipient, for another purpose, from the caller's own providers
      return document({ id: `noise-${i}`, provider: providers[i % providers.length]!, recipients: [{ org: caller.org, roles: ['social-worker'] }], purposes: [{ code: `purpose-${i % 50}` }], scope });
    case 1: // other organisations, for the caller's own purpose
      return document({ id: `noise-${i}`, provider: other(i), recipients: [{ org: other(i + 1) }], purposes: [{ code: caller.purpose }], scope });
    case 2: // the caller's organisation as provider
      return document({ id: `noise-${i}`, provider: caller.org, recipients: [{ org: other(i) }], purposes: [{ code: caller.purpose }], scope });
    default: // unrelated organisations and purposes, some not yet in force
      return document({ id: `noise-${i}`, provider: other(i), recipients: [{ org: other(i + 7) }], purposes: [{ code: `purpose-${i % 50}` }], scope, ...(i % 8 === 3 ? { validFrom: '2026-09-01T00:00:00Z' } : {}) });
  }
}

const indexable = (doc: AgreementDocument): IndexableAgreement => ({ document: doc, payloadHash: payloadHash(canonicalJson(doc)), revokedAt: null });

function agreementSet(total: number): IndexableAgreement[] {
  const relevant = relevantAgreements();
  return [...relevant, ...Array.from({ length: total - relevant.length }, (_, i) => noiseAgreement(i))].map(indexable);
}

/** One request's records: four of each type, from the three providers and the caller itself. */
function requestRecords(): { type: RecordType; row: Record<string, unknown>; age: number | undefined }[] {
  const owners = [...providers, caller.org];
  return recordTypeList.flatMap((info) =>
    owners.map((ownerOrg, i) => ({
      type: info.name,
      row: {
        ownerOrg, givenName: 'Ada', familyName: 'Lovelace', dateOfBirth: '2012-03-04', postcode: 'W2 1AA',
        caseRef: 'C1', service: i % 2 === 0 ? 'CHILDREN' : 'ADULTS', status: 'OPEN', tenancyRef: 'T1', rentArrears: true,
        schoolName: 'S', yearGroup: 9, attendancePercent: 80 + i * 5, reference: 'R', kind: 'OTHER', riskLevel: i % 2 === 0 ? 'HIGH' : 'STANDARD', practiceName: 'P',
      },
      age: 14,
    })),
  );
}

const records = requestRecords();

/** Runs simulated requests for `ms` and returns decide() calls per second. */
function decisionsPerSecond(index: DecisionSnapshot, ms: number): number {
  let decisions = 0;
  let sink = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let request = 0; request < 20; request += 1) {
      const decide = index.forCaller(caller, now);
      for (const { type, row, age } of records) sink += decide.decide(type, row, age).fields.size;
      decisions += records.length;
    }
    elapsed = performance.now() - started;
  }
  if (sink < 0) throw new Error('unreachable');
  return (decisions * 1000) / elapsed;
}

function summary(index: DecisionSnapshot): string {
  const decide = index.forCaller(caller, now);
  return JSON.stringify(records.map(({ type, row, age }) => {
    const d = decide.decide(type, row, age);
    return [d.visible, [...d.fields].sort(), d.sharedUnder.map((r) => `${r.id}@${r.version}`)];
  }));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const format = (n: number) => Math.round(n).toLocaleString('en-GB');

const built: Record<'small' | 'large', { index: DecisionSnapshot; buildMs: number }> = {} as never;
for (const [name, total] of [['small', 10], ['large', 10_000]] as const) {
  const agreements = agreementSet(total);
  const started = performance.now();
  built[name] = { index: buildDecisionIndex(agreements), buildMs: performance.now() - started };
}
const { small, large } = built;
if (summary(small.index) !== summary(large.index)) throw new Error('the two indexes decide differently: the benchmark would compare different work');
const shown = JSON.parse(summary(small.index)) as [boolean][];

console.log(`decision index: ${small.index.size} and ${large.index.size} agreement versions (built in ${small.buildMs.toFixed(1)} ms and ${large.buildMs.toFixed(0)} ms)`);
console.log(`each request: forCaller + ${records.length} decisions (${shown.filter(([visible]) => visible).length} records visible), identical in both indexes`);

decisionsPerSecond(small.index, 500); // warm up the JIT on both before measuring
decisionsPerSecond(large.index, 500);
const smallRates: number[] = [];
const largeRates: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  smallRates.push(decisionsPerSecond(small.index, secondsPerRound * 1000));
  largeRates.push(decisionsPerSecond(large.index, secondsPerRound * 1000));
}
const smallRate = median(smallRates);
const largeRate = median(largeRates);
const ratio = largeRate / smallRate;

console.log(`10 agreements:      ${format(smallRate)} decisions/s (median of ${rounds} rounds of ${secondsPerRound} s)`);
console.log(`10,000 agreements:  ${format(largeRate)} decisions/s`);
console.log(`ratio (10,000 / 10): ${ratio.toFixed(3)} (target >= 0.95: ${ratio >= 0.95 ? 'met' : 'NOT met'})`);
