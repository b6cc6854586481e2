/**
 * The demo partnership as data: a tri-borough multi-agency safeguarding partnership (three London
 * borough councils, the police, an NHS trust, a school trust and the hub operator), the agreements
 * among them, about 200 clearly synthetic people and their records, and the personas the sandbox
 * offers. Pure and deterministic: the same reference year gives the same partnership, byte for
 * byte (a seeded PRNG, never Math.random). Keys are not here: seed-demo.ts generates them.
 *
 * Everything personal is invented. NHS numbers are in the 999 range, which the NHS never issues
 * to patients; names and addresses are obviously fictional.
 */
import type { AgreementDocument } from '../agreements/agreement-document.js';
import type { OrganisationKind } from '../auth/index.js';
import { nhsNumberCheckDigit } from '../records/index.js';
import type { PublishInput, PublishItem } from '../records/validate-publish-input.js';
import type { ExampleOperation, PersonaPreset } from './client/sandbox-config.js';

export interface DemoOrganisation {
  readonly id: string;
  readonly name: string;
  readonly kind: OrganisationKind;
}

/** What the seed does with an agreement after submitting it, and the status it should then have. */
export type DemoAgreementFate = 'active' | 'expired' | 'revoked' | 'superseded';

export interface DemoAgreement {
  readonly document: AgreementDocument;
  readonly fate: DemoAgreementFate;
  /** For `revoked`: the party that revokes it and why. */
  readonly revocation?: { readonly by: string; readonly reason: string };
}

export interface DemoPerson {
  readonly nhsNumber: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly dateOfBirth: string;
  readonly ageYears: number;
  /** The borough council the person lives in. */
  readonly borough: string;
}

/** One organisation's records, ready for `publishRecords`. */
export interface DemoRecordSet {
  readonly owner: string;
  readonly input: PublishInput;
}

export interface DemoPartnership {
  readonly referenceYear: number;
  readonly organisations: readonly DemoOrganisation[];
  readonly agreements: readonly DemoAgreement[];
  readonly people: readonly DemoPerson[];
  readonly records: readonly DemoRecordSet[];
  readonly personas: readonly PersonaPreset[];
  /** People the example operations are about. */
  readonly featured: { readonly child: DemoPerson; readonly adult: DemoPerson };
  readonly examples: readonly ExampleOperation[];
}

export const demoOrganisations: readonly DemoOrganisation[] = Object.freeze([
  { id: 'westminster', name: 'Westminster City Council (demo)', kind: 'COUNCIL' },
  { id: 'kensington-chelsea', name: 'Royal Borough of Kensington and Chelsea (demo)', kind: 'COUNCIL' },
  { id: 'hammersmith-fulham', name: 'London Borough of Hammersmith & Fulham (demo)', kind: 'COUNCIL' },
  { id: 'met-police', name: 'Metropolitan Police Service (demo)', kind: 'POLICE' },
  { id: 'imperial-nhs', name: 'Imperial College Healthcare NHS Trust (demo)', kind: 'NHS_TRUST' },
  { id: 'triborough-schools', name: 'Tri-borough Learning Trust (demo)', kind: 'SCHOOL' },
  { id: 'hub', name: 'Accord hub operator (demo)', kind: 'OTHER' },
]);

export const demoOrganisationIds: readonly string[] = Object.freeze(demoOrganisations.map((org) => org.id));

export function isDemoOrganisation(id: string): boolean {
  return demoOrganisationIds.includes(id);
}

const boroughs = ['westminster', 'kensington-chelsea', 'hammersmith-fulham'] as const;
type Borough = (typeof boroughs)[number];

/** How many synthetic people the partnership holds. */
export const demoPeopleCount = 200;

/** mulberry32: a small, well-mixed 32-bit PRNG; deterministic for a given seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const givenNames = [
  'Ada', 'Ben', 'Cleo', 'Dev', 'Esme', 'Finn', 'Gita', 'Hugo', 'Ines', 'Jonah', 'Kemi', 'Leo', 'Maya', 'Nico', 'Orla',
  'Priya', 'Quinn', 'Rosa', 'Sami', 'Tariq', 'Uma', 'Vik', 'Wren', 'Xavi', 'Yara', 'Zane', 'Amara', 'Bodhi', 'Cora', 'Dara',
];
/** Family names no real family has: nobody can mistake a demo record for a real person's. */
const familyNames = [
  'Testington', 'Sampleford', 'Mockridge', 'Fictionbury', 'Demoworth', 'Exampleton', 'Synthwell', 'Pretendall',
  'Madeupson', 'Placeholt', 'Fauxbridge', 'Dummington', 'Notrealby', 'Imaginsworth', 'Stubbsfield', 'Fixtureley',
];
const streets = ['Sample Mews', 'Testing Row', 'Example Street', 'Fixture Lane', 'Mock Terrace', 'Placeholder Gardens', 'Demo Road', 'Synthetic Walk'];
/** Real postcode districts of each borough with made-up units (9ZZ-9ZX are not delivered to). */
const postcodeDistricts: Readonly<Record<Borough, readonly string[]>> = {
  westminster: ['W2', 'W9', 'NW8', 'SW1V'],
  'kensington-chelsea': ['W8', 'W10', 'W11', 'SW3'],
  'hammersmith-fulham': ['W6', 'W12', 'W14', 'SW6'],
};
const boroughCodes: Readonly<Record<Borough, string>> = { westminster: 'WCC', 'kensington-chelsea': 'RBKC', 'hammersmith-fulham': 'LBHF' };
const leadWorkers: Readonly<Record<Borough, readonly string[]>> = {
  westminster: ['J. Demoworth (SW)', 'K. Exampleton (SW)', 'L. Synthwell (SW)'],
  'kensington-chelsea': ['A. Mockridge (SW)', 'B. Placeholt (SW)', 'C. Fauxbridge (SW)'],
  'hammersmith-fulham': ['D. Testington (SW)', 'E. Sampleford (SW)', 'F. Fixtureley (SW)'],
};
const schools = [
  { urn: '999101', name: 'Exampleton Primary School (demo)', minAge: 4, maxAge: 11 },
  { urn: '999102', name: 'Sample Mews Primary Academy (demo)', minAge: 4, maxAge: 11 },
  { urn: '999103', name: 'Fixture Lane Primary School (demo)', minAge: 4, maxAge: 11 },
  { urn: '999201', name: 'Tri-borough Demo Academy (demo)', minAge: 11, maxAge: 18 },
  { urn: '999202', name: 'Placeholder High School (demo)', minAge: 11, maxAge: 18 },
];
const practices = [
  { ods: 'Z99001', name: 'Demo Road Medical Centre' },
  { ods: 'Z99002', name: 'Mock Terrace Surgery' },
  { ods: 'Z99003', name: 'Synthetic Walk Health Centre' },
  { ods: 'Z99004', name: 'Example Street Group Practice' },
];
const childCategories = ['Child in need', 'Child protection plan: neglect', 'Child protection plan: emotional abuse', 'Looked after child', 'Early help'];
const adultCategories = ['Safeguarding enquiry (Care Act 2014 s42)', 'Care and support plan', "Carer's assessment"];
const policeKinds = ['DOMESTIC_ABUSE', 'MISSING_PERSON', 'CHILD_CONCERN', 'OTHER'] as const;
const riskLevels = ['STANDARD', 'MEDIUM', 'HIGH'] as const;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const isoDay = (year: number, dayOfYear: number) => new Date(Date.UTC(year, 0, 1 + dayOfYear)).toISOString().slice(0, 10);

/** Demo NHS numbers: `999` followed by six PRNG digits and a valid modulus-11 check digit, all distinct. */
function demoNhsNumbers(count: number, random: () => number): string[] {
  const seen = new Set<string>();
  const numbers: string[] = [];
  while (numbers.length < count) {
    const stem = `999${pad(Math.floor(random() * 1_000_000), 6)}`;
    const check = nhsNumberCheckDigit(stem);
    // A stem whose check digit would be 10 is never issued: draw again.
    if (check === undefined || seen.has(stem)) continue;
    seen.add(stem);
    numbers.push(`${stem}${check}`);
  }
  return numbers;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new TypeError('pick from an empty list');
  return item;
}

const lawfulBasis = {
  children: {
    article6: 'public-task',
    article9: 'substantial-public-interest',
    article10: 'dpa2018-sch1-pt2-para18',
    legislation: ['Children Act 1989 s47', 'Children Act 2004 s11'],
  },
} as const;

function agreements(year: number): DemoAgreement[] {
  const validFrom = `${year - 1}-01-01T00:00:00Z`;
  const validUntil = `${year + 2}-12-31T23:59:59Z`;
  const reviewBy = `${year + 1}-12-31`;
  const governance = (ref: string) => ({ dpiaRef: `DPIA-${year - 1}-${ref}`, contact: 'dpo@triborough-partnership.example' });
  const safeguardingChildren = { code: 'safeguarding-children', description: 'Assess and act on risk of significant harm to a child' };
  const safeguardingAdults = { code: 'safeguarding-adults', description: 'Enquiries under the Care Act 2014 s42' };

  const mashV1: AgreementDocument = {
    type: 'accord.isa/v1',
    id: 'triborough-mash-children',
    version: 1,
    title: "Tri-borough MASH: children's social care (first edition)",
    provider: 'kensington-chelsea',
    recipients: [{ org: 'westminster', roles: ['social-worker', 'safeguarding-lead'] }],
    purposes: [safeguardingChildren],
    lawfulBasis: { ...lawfulBasis.children, legislation: [...lawfulBasis.children.legislation] },
    dataSubjects: ['children', 'parents-carers'],
    scope: [
      { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth'] },
      {
        recordType: 'SocialCareCase',
        fields: ['caseRef', 'service', 'status', 'category'],
        where: { field: 'service', op: 'eq', value: 'CHILDREN' },
      },
    ],
    validFrom,
    validUntil,
    reviewBy,
    retention: 'P2Y',
    governance: governance('014'),
  };
  const mashV2: AgreementDocument = {
    ...mashV1,
    version: 2,
    title: "Tri-borough MASH: children's social care",
    recipients: [
      { org: 'westminster', roles: ['social-worker', 'safeguarding-lead'] },
      { org: 'met-police', roles: ['mash-officer'] },
    ],
    scope: [
      { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth', 'postcode'] },
      {
        recordType: 'SocialCareCase',
        fields: ['caseRef', 'service', 'status', 'category', 'openedOn', 'leadWorker'],
        where: { field: 'service', op: 'eq', value: 'CHILDREN' },
      },
    ],
    // A Westminster safeguarding lead may see these fields in an emergency, whatever the purpose
    // and whatever the service: every such release is audited as BREAK_GLASS for RBKC's DPO.
    breakGlass: { allowed: true, roles: ['safeguarding-lead'] },
  };

  return [
    { document: mashV1, fate: 'superseded' },
    { document: mashV2, fate: 'active' },
    {
      fate: 'active',
      document: {
        type: 'accord.isa/v1',
        id: 'met-police-notifications-mash',
        version: 1,
        title: 'Police notifications to the tri-borough MASH',
        provider: 'met-police',
        recipients: boroughs.map((org) => ({ org, roles: ['social-worker', 'safeguarding-lead'] })),
        purposes: [safeguardingChildren, safeguardingAdults],
        lawfulBasis: {
          article6: 'public-task',
          article10: 'dpa2018-sch1-pt2-para18',
          legislation: ['Children Act 2004 s11', 'Crime and Disorder Act 1998 s115'],
        },
        dataSubjects: ['children', 'adults-at-risk'],
        // The free-text summary stays with the police: councils see that something happened, not the narrative.
        scope: [{ recordType: 'PoliceNotification', fields: ['reference', 'kind', 'occurredOn', 'riskLevel'] }],
        validFrom,
        validUntil,
        reviewBy,
        retention: 'P1Y',
        governance: governance('021'),
      },
    },
    {
      fate: 'active',
      document: {
        type: 'accord.isa/v1',
        id: 'school-attendance-safeguarding',
        version: 1,
        title: 'School attendance and exclusions for safeguarding',
        provider: 'triborough-schools',
        recipients: boroughs.map((org) => ({ org, roles: ['social-worker', 'safeguarding-lead', 'education-welfare-officer'] })),
        purposes: [safeguardingChildren],
        lawfulBasis: { article6: 'public-task', legislation: ['Education Act 2002 s175', 'Children Act 2004 s11'] },
        dataSubjects: ['children'],
        scope: [
          {
            recordType: 'SchoolEnrolment',
            fields: ['schoolUrn', 'schoolName', 'yearGroup', 'attendancePercent', 'exclusionsThisYear'],
            where: { field: 'subject.ageYears', op: 'lt', value: 18 },
          },
        ],
        validFrom,
        validUntil,
        reviewBy,
        retention: 'P1Y',
        governance: governance('022'),
      },
    },
    {
      fate: 'active',
      document: {
        type: 'accord.isa/v1',
        id: 'gp-registration-safeguarding-leads',
        version: 1,
        title: 'GP registration for safeguarding leads',
        provider: 'imperial-nhs',
        recipients: [
          { org: 'westminster', roles: ['safeguarding-lead'] },
          { org: 'kensington-chelsea', roles: ['safeguarding-lead'] },
          { org: 'hammersmith-fulham', roles: ['safeguarding-lead'] },
        ],
        purposes: [safeguardingChildren, safeguardingAdults],
        lawfulBasis: { article6: 'public-task', article9: 'health-or-social-care', legislation: ['Children Act 2004 s11', 'Care Act 2014 s45'] },
        dataSubjects: ['children', 'adults-at-risk'],
        scope: [
          { recordType: 'GpRegistration', fields: ['practiceOdsCode', 'practiceName', 'registeredOn'] },
          { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth'] },
        ],
        breakGlass: { allowed: true, roles: ['safeguarding-lead'] },
        validFrom,
        validUntil,
        reviewBy,
        retention: 'P1Y',
        governance: governance('023'),
      },
    },
    {
      fate: 'active',
      document: {
        type: 'accord.isa/v1',
        id: 'lbhf-housing-safeguarding',
        version: 1,
        title: 'Hammersmith & Fulham housing tenancies for safeguarding',
        provider: 'hammersmith-fulham',
        recipients: [
          { org: 'westminster', roles: ['social-worker', 'safeguarding-lead', 'housing-officer'] },
          { org: 'kensington-chelsea', roles: ['social-worker', 'safeguarding-lead', 'housing-officer'] },
        ],
        purposes: [safeguardingChildren, { code: 'housing-support', description: 'Prevent homelessness of families known to social care' }],
        lawfulBasis: { article6: 'public-task', legislation: ['Housing Act 1996 s213', 'Children Act 2004 s11'] },
        dataSubjects: ['tenants', 'children'],
        scope: [
          { recordType: 'HousingTenancy', fields: ['tenancyRef', 'addressLine', 'postcode', 'startedOn', 'endedOn', 'rentArrears'] },
          { recordType: 'Demographics', fields: ['givenName', 'familyName', 'dateOfBirth', 'postcode', 'addressLine'] },
        ],
        validFrom,
        validUntil,
        reviewBy,
        retention: 'P2Y',
        governance: governance('024'),
      },
    },
    {
      fate: 'expired',
      document: {
        type: 'accord.isa/v1',
        id: 'supporting-families-pilot',
        version: 1,
        title: 'Supporting Families pilot (ended)',
        provider: 'westminster',
        recipients: [{ org: 'hammersmith-fulham', roles: ['family-support-worker'] }],
        purposes: [{ code: 'family-support', description: 'Supporting Families programme (pilot)' }],
        lawfulBasis: { article6: 'public-task', legislation: ['Children Act 2004 s10'] },
        dataSubjects: ['families'],
        scope: [
          { recordType: 'Demographics', fields: ['givenName', 'familyName', 'postcode'] },
          { recordType: 'HousingTenancy', fields: ['tenancyRef', 'rentArrears'] },
        ],
        validFrom: `${year - 3}-04-01T00:00:00Z`,
        validUntil: `${year - 2}-03-31T23:59:59Z`,
        retention: 'P6M',
        governance: governance('003'),
      },
    },
    {
      fate: 'revoked',
      revocation: { by: 'westminster', reason: 'Replaced by case-by-case disclosure after the DPIA review found the standing flow excessive.' },
      document: {
        type: 'accord.isa/v1',
        id: 'adult-safeguarding-to-police',
        version: 1,
        title: 'Adult safeguarding enquiries to the police (withdrawn)',
        provider: 'westminster',
        recipients: [{ org: 'met-police', roles: ['mash-officer'] }],
        purposes: [safeguardingAdults],
        lawfulBasis: { article6: 'public-task', article9: 'substantial-public-interest', legislation: ['Care Act 2014 s42'] },
        dataSubjects: ['adults-at-risk'],
        scope: [
          {
            recordType: 'SocialCareCase',
            fields: ['caseRef', 'status', 'category', 'openedOn'],
            where: { all: [{ field: 'service', op: 'eq', value: 'ADULTS' }, { field: 'status', op: 'eq', value: 'OPEN' }] },
          },
        ],
        validFrom,
        validUntil,
        reviewBy,
        retention: 'P1Y',
        governance: governance('017'),
      },
    },
  ];
}

interface MutableRecords {
  demographics: PublishItem[];
  socialCareCases: PublishItem[];
  schoolEnrolments: PublishItem[];
  housingTenancies: PublishItem[];
  policeNotifications: PublishItem[];
  gpRegistrations: PublishItem[];
}

const emptyRecords = (): MutableRecords => ({
  demographics: [],
  socialCareCases: [],
  schoolEnrolments: [],
  housingTenancies: [],
  policeNotifications: [],
  gpRegistrations: [],
});

function people(year: number, random: () => number): DemoPerson[] {
  const numbers = demoNhsNumbers(demoPeopleCount, random);
  return numbers.map((nhsNumber, index) => {
    // Index 0 is the featured child and index 1 the featured adult of the example operations;
    // about 60% of the rest are children, since the partnership is about safeguarding.
    const ageYears = index === 0 ? 9 : index === 1 ? 78 : random() < 0.6 ? Math.floor(random() * 18) : 18 + Math.floor(random() * 70);
    const birthday = Math.floor(random() * 365);
    const borough: Borough = index < 2 ? 'kensington-chelsea' : pick(random, boroughs);
    return {
      nhsNumber,
      givenName: index === 0 ? 'Ada' : index === 1 ? 'Bodhi' : pick(random, givenNames),
      familyName: index < 2 ? 'Testington' : pick(random, familyNames),
      dateOfBirth: isoDay(year - ageYears - 1, birthday),
      ageYears,
      borough,
    };
  });
}

function records(year: number, population: readonly DemoPerson[], random: () => number): DemoRecordSet[] {
  const byOwner = new Map<string, MutableRecords>(demoOrganisationIds.map((id) => [id, emptyRecords()]));
  const of = (owner: string): MutableRecords => byOwner.get(owner) as MutableRecords;
  const day = (fromYearsAgo: number) => isoDay(year - 1 - Math.floor(random() * fromYearsAgo), Math.floor(random() * 365));

  population.forEach((person, index) => {
    const featured = index < 2;
    const borough = person.borough as Borough;
    const code = boroughCodes[borough];
    const n = pad(index + 1, 4);
    const district = pick(random, postcodeDistricts[borough]);
    const postcode = `${district} 9Z${'XYZ'[Math.floor(random() * 3)]}`;
    const addressLine = `${1 + Math.floor(random() * 120)} ${pick(random, streets)}, London`;
    const isChild = person.ageYears < 18;

    of(borough).demographics.push({
      externalId: `${code}-PER-${n}`,
      nhsNumber: person.nhsNumber,
      givenName: person.givenName,
      familyName: person.familyName,
      dateOfBirth: person.dateOfBirth,
      postcode,
      addressLine,
    });

    if (featured || random() < 0.35) {
      const service = isChild ? 'CHILDREN' : 'ADULTS';
      const open = featured || random() < 0.6;
      const openedOn = day(3);
      of(borough).socialCareCases.push({
        externalId: `${code}-CASE-${n}`,
        nhsNumber: person.nhsNumber,
        caseRef: `${code}-${isChild ? 'CS' : 'AS'}-${year - 1}-${n}`,
        service,
        status: open ? 'OPEN' : 'CLOSED',
        category: index === 0 ? 'Child protection plan: neglect' : index === 1 ? adultCategories[0] : pick(random, isChild ? childCategories : adultCategories),
        openedOn,
        closedOn: open ? null : isoDay(year - 1, 300),
        leadWorker: pick(random, leadWorkers[borough]),
        summary: `Synthetic demo case note ${n}: no real person. ${isChild ? 'Concerns about home conditions reported by school.' : 'Concerns raised by a neighbour about self-neglect.'}`,
      });
    }

    if (borough === 'hammersmith-fulham' ? random() < 0.5 : random() < 0.2) {
      const ended = random() < 0.2;
      of(borough).housingTenancies.push({
        externalId: `${code}-TEN-${n}`,
        nhsNumber: person.nhsNumber,
        tenancyRef: `${code}-T-${n}`,
        addressLine,
        postcode,
        startedOn: day(10),
        endedOn: ended ? isoDay(year - 1, 200) : null,
        rentArrears: random() < 0.3,
      });
    }

    if (isChild && person.ageYears >= 4) {
      const eligible = schools.filter((s) => person.ageYears >= s.minAge && person.ageYears < s.maxAge);
      const school = pick(random, eligible.length > 0 ? eligible : schools);
      of('triborough-schools').schoolEnrolments.push({
        externalId: `TLT-ENR-${n}`,
        nhsNumber: person.nhsNumber,
        schoolUrn: school.urn,
        schoolName: school.name,
        // Reception is year 0: a child starts it in the September after turning four.
        yearGroup: Math.min(13, person.ageYears - 4),
        startedOn: `${year - 1 - Math.max(0, person.ageYears - school.minAge)}-09-01`,
        attendancePercent: index === 0 ? 71.5 : Math.round((75 + random() * 25) * 10) / 10,
        exclusionsThisYear: index === 0 ? 1 : random() < 0.1 ? 1 + Math.floor(random() * 3) : 0,
      });
      // The trust's own pupil record: its date of birth is what `subject.ageYears` in the
      // school agreement's condition is computed from (ages come from the owner's Demographics).
      of('triborough-schools').demographics.push({
        externalId: `TLT-PUP-${n}`,
        nhsNumber: person.nhsNumber,
        givenName: person.givenName,
        familyName: person.familyName,
        dateOfBirth: person.dateOfBirth,
        postcode,
        addressLine: null,
      });
    }

    if (featured || random() < 0.2) {
      const kind = index === 0 ? 'DOMESTIC_ABUSE' : index === 1 ? 'MISSING_PERSON' : pick(random, policeKinds);
      of('met-police').policeNotifications.push({
        externalId: `MPS-NOT-${n}`,
        nhsNumber: person.nhsNumber,
        reference: `CAD-${year - 1}-${pad(1000 + index * 7, 6)}`,
        kind,
        occurredOn: day(2),
        riskLevel: featured ? 'HIGH' : pick(random, riskLevels),
        summary: `Synthetic demo notification ${n}: officers attended a fictional address; no real person is described.`,
      });
    }

    if (featured || random() < 0.6) {
      const practice = pick(random, practices);
      of('imperial-nhs').gpRegistrations.push({
        externalId: `IMP-GP-${n}`,
        nhsNumber: person.nhsNumber,
        practiceOdsCode: practice.ods,
        practiceName: `${practice.name} (demo)`,
        registeredOn: day(8),
      });
      of('imperial-nhs').demographics.push({
        externalId: `IMP-PAT-${n}`,
        nhsNumber: person.nhsNumber,
        givenName: person.givenName,
        familyName: person.familyName,
        dateOfBirth: person.dateOfBirth,
        postcode,
        addressLine: null,
      });
    }
  });

  return [...byOwner.entries()]
    .map(([owner, lists]) => ({ owner, input: lists }))
    .filter((set) => Object.values(set.input).some((list: readonly PublishItem[]) => list.length > 0));
}

function personas(): PersonaPreset[] {
  const dpo = (org: DemoOrganisation): PersonaPreset => ({
    id: `${org.id}-dpo`,
    label: `${org.name.replace(' (demo)', '')}: data protection officer`,
    org: org.id,
    sub: `dpo@${org.id}.example`,
    roles: org.id === 'hub' ? ['dpo', 'hub-admin'] : ['dpo'],
    purpose: 'data-protection-oversight',
  });
  return [
    {
      id: 'westminster-social-worker',
      label: "Westminster: children's social worker",
      org: 'westminster',
      sub: 'sam.social-worker@westminster.example',
      roles: ['social-worker'],
      purpose: 'safeguarding-children',
      caseRef: 'WCC-CS-MASH-0042',
    },
    {
      id: 'met-police-mash-officer',
      label: 'Met Police: MASH officer',
      org: 'met-police',
      sub: 'pc.mash-officer@met-police.example',
      roles: ['mash-officer'],
      purpose: 'safeguarding-children',
      caseRef: 'MPS-MASH-0042',
    },
    {
      id: 'westminster-safeguarding-lead-break-glass',
      label: 'Westminster: safeguarding lead (break-glass)',
      org: 'westminster',
      sub: 'alex.safeguarding-lead@westminster.example',
      roles: ['safeguarding-lead'],
      purpose: 'emergency-welfare-check',
      caseRef: 'WCC-AS-EMERG-0007',
      breakGlassReason: 'Adult at risk missing overnight; police request urgent welfare information',
    },
    {
      id: 'westminster-safeguarding-lead',
      label: 'Westminster: safeguarding lead',
      org: 'westminster',
      sub: 'alex.safeguarding-lead@westminster.example',
      roles: ['safeguarding-lead'],
      purpose: 'safeguarding-children',
      caseRef: 'WCC-CS-MASH-0042',
    },
    {
      id: 'kensington-chelsea-housing-officer',
      label: 'Kensington and Chelsea: housing officer',
      org: 'kensington-chelsea',
      sub: 'jo.housing-officer@kensington-chelsea.example',
      roles: ['housing-officer'],
      purpose: 'housing-support',
    },
    {
      id: 'triborough-schools-dsl',
      label: 'Tri-borough Learning Trust: designated safeguarding lead',
      org: 'triborough-schools',
      sub: 'dsl@triborough-schools.example',
      roles: ['designated-safeguarding-lead'],
      purpose: 'safeguarding-children',
    },
    ...demoOrganisations.map(dpo),
  ];
}

function examples(child: DemoPerson, adult: DemoPerson): ExampleOperation[] {
  return [
    {
      title: 'Safeguarding lookup',
      query: `# Safeguarding lookup: what a Westminster children's social worker may see about one child.
# Persona: "Westminster: children's social worker". Press the run button.
#
# Records come from four organisations, each released under its own agreement (see sharedUnder).
# The police summary is not in the police agreement's scope: it comes back null with a NOT_SHARED
# error at its path. GP registrations are shared with safeguarding leads only, so the list is empty.
query SafeguardingLookup {
  subject(nhsNumber: "${child.nhsNumber}") {
    nhsNumber
    demographics { owner { id } givenName familyName dateOfBirth postcode sharedUnder { id version } }
    socialCareCases { owner { id } caseRef service status category openedOn leadWorker }
    policeNotifications { owner { id } reference kind occurredOn riskLevel summary }
    schoolEnrolments { owner { id } schoolName yearGroup attendancePercent exclusionsThisYear }
    gpRegistrations { owner { id } practiceName }
  }
}
`,
    },
    {
      title: 'A withheld field',
      query: `# Withheld fields: the case summary and the home address are not in any agreement
# Kensington and Chelsea signed with Westminster, so each is null with extensions.code NOT_SHARED.
# Persona: "Westminster: children's social worker".
query WithheldFields {
  subject(nhsNumber: "${child.nhsNumber}") {
    demographics { owner { id } givenName addressLine }
    socialCareCases { owner { id } caseRef summary }
  }
}
`,
    },
    {
      title: 'Break-glass lookup',
      query: `# Break-glass: an adult's social care case is outside the MASH agreement (children only, and
# not for this purpose). A safeguarding lead with a break-glass reason sees the agreement's fields
# anyway; the release is audited as BREAK_GLASS and listed for Kensington and Chelsea's DPO.
# Persona: "Westminster: safeguarding lead (break-glass)". Try it with the plain
# "Westminster: safeguarding lead" persona too.
query BreakGlassLookup {
  subject(nhsNumber: "${adult.nhsNumber}") {
    demographics { owner { id } givenName familyName dateOfBirth }
    socialCareCases { owner { id } caseRef service status category sharedUnder { id version } }
    gpRegistrations { owner { id } practiceName registeredOn }
  }
}
`,
    },
    {
      title: "DPO's subject access report",
      query: `# A DPO's subject access report: every audit event about one person that involves their
# organisation. Run the safeguarding lookup first, then switch to the persona
# "Royal Borough of Kensington and Chelsea: data protection officer" to see Westminster's reads.
query SubjectAccessReport {
  subjectAccessReport(nhsNumber: "${child.nhsNumber}") {
    seq at action outcome actorOrg actorUser purpose caseRef ownerOrg
    records { recordType recordId fields withheld agreements { id version } }
  }
}
`,
    },
    {
      title: 'Audit integrity',
      query: `# The audit trail's integrity: chain head, last signed checkpoint and verification state.
# Persona: any data protection officer, or "Accord hub operator: data protection officer".
query AuditIntegrity {
  auditIntegrity {
    headSeq headHash verifiedUpTo intact problem
    lastCheckpoint { seq hash at kid }
  }
}
`,
    },
  ];
}

/**
 * The whole demo partnership for a reference year (the year the seed runs): agreements valid
 * from the year before to two years after it, the expired one ended two years before, dates of
 * birth and record dates relative to it.
 */
export function demoPartnership(options: { readonly referenceYear: number }): DemoPartnership {
  const year = options.referenceYear;
  if (!Number.isInteger(year) || year < 2000 || year > 9000) throw new TypeError('referenceYear must be a calendar year');
  const random = prng(0xacc0 + year);
  const population = people(year, random);
  const child = population[0] as DemoPerson;
  const adult = population[1] as DemoPerson;
  return {
    referenceYear: year,
    organisations: demoOrganisations,
    agreements: agreements(year),
    people: population,
    records: records(year, population, random),
    personas: personas(),
    featured: { child, adult },
    examples: examples(child, adult),
  };
}
