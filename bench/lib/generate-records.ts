/**
 * Synthetic records, written straight into the record tables with COPY (the hub reads them
 * exactly as if they had been published). Deterministic: a seeded PRNG, NHS numbers with valid
 * check digits in ranges the benchmark owns.
 *
 * Three kinds of subject:
 * - *single* (scenario a): exactly one SocialCareCase, owned by Kensington & Chelsea, service
 *   CHILDREN, so the reader's where-conditioned agreement releases it;
 * - *rich* (scenarios b, c, d): 50 records across the six types and four owners, every one
 *   visible to the reader, so the baseline and the hub return the same records;
 * - *background* (--scale): records of an organisation that shares nothing with the reader,
 *   which only make the tables large.
 */
import { getTableColumns, getTableName } from 'drizzle-orm';
import type postgres from 'postgres';
import { nhsNumberCheckDigit, recordTypeList, type FieldKind, type RecordType } from '../../src/records/index.js';
import { copyRows, type CopyValue } from './copy-rows.js';

/** Records of one rich subject per type, and who owns them: 50 in all. */
export const richSubjectRecords: Readonly<Record<RecordType, { count: number; owner: string }>> = {
  Demographics: { count: 2, owner: 'kensington-chelsea' },
  SocialCareCase: { count: 16, owner: 'kensington-chelsea' },
  SchoolEnrolment: { count: 8, owner: 'triborough-schools' },
  HousingTenancy: { count: 6, owner: 'kensington-chelsea' },
  PoliceNotification: { count: 14, owner: 'met-police' },
  GpRegistration: { count: 4, owner: 'imperial-nhs' },
};

/** `count` valid NHS numbers from `start` (a 9-digit stem) upwards. */
export function nhsNumbers(count: number, start: number): string[] {
  const numbers: string[] = [];
  for (let stem = start; numbers.length < count; stem += 1) {
    const stemText = String(stem).padStart(9, '0');
    const check = nhsNumberCheckDigit(stemText);
    if (check !== undefined) numbers.push(`${stemText}${check}`);
  }
  return numbers;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = ['concern', 'visit', 'referral', 'review', 'assessment', 'strategy', 'meeting', 'plan', 'contact', 'school', 'family', 'support'];

/** Values the reader's agreements condition on: these keep every generated record visible. */
const fixed: Readonly<Record<string, CopyValue>> = { service: 'CHILDREN' };

function valueOf(field: string, kind: FieldKind, random: () => number, n: number): CopyValue {
  if (field in fixed) return fixed[field];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  switch (kind.type) {
    case 'string': {
      if (field === 'summary') return Array.from({ length: 24 }, () => pick(words)).join(' ');
      if (field === 'postcode') return `SW${1 + (n % 20)} ${n % 10}AB`;
      return `${field}-${n}`.slice(0, kind.maxLength);
    }
    case 'date': {
      const year = 2005 + Math.floor(random() * 20);
      const month = 1 + Math.floor(random() * 12);
      const day = 1 + Math.floor(random() * 28);
      return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    }
    case 'int':
      // School year groups stay within the reader's `yearGroup lte 13` condition.
      return kind.min + Math.floor(random() * (Math.min(kind.max, 13) - kind.min + 1));
    case 'float':
      return Math.round((kind.min + random() * (kind.max - kind.min)) * 10) / 10;
    case 'boolean':
      return random() < 0.3;
    case 'enum':
      return pick(kind.values);
  }
}

export interface RecordPlan {
  readonly single: readonly string[];
  readonly rich: readonly string[];
  readonly background: readonly string[];
  /** Records per background subject (spread over the six types). */
  readonly backgroundPerSubject: number;
}

export function plannedRecordCount(plan: RecordPlan): number {
  const perRich = Object.values(richSubjectRecords).reduce((sum, r) => sum + r.count, 0);
  return plan.single.length + plan.rich.length * perRich + plan.background.length * plan.backgroundPerSubject;
}

/** Writes the subjects and every record of `plan`; resolves with the number of records. */
export async function generateRecords(sql: postgres.Sql, plan: RecordPlan): Promise<number> {
  const subjects = [...plan.single, ...plan.rich, ...plan.background];
  await copyRows(sql, 'subjects', ['nhs_number'], (function* () {
    for (const nhsNumber of subjects) yield [nhsNumber];
  })(), { label: 'subjects', total: subjects.length });

  let written = 0;
  for (const [typeIndex, info] of recordTypeList.entries()) {
    const columns = getTableColumns(info.table);
    const sqlName = (field: string) => (columns[field] as { name: string }).name;
    const columnNames = ['owner_org', 'external_id', 'nhs_number', ...info.fields.map((f) => sqlName(f.name))];
    const random = mulberry32(0xacc0 + typeIndex);
    const perBackground = Math.floor(plan.backgroundPerSubject / recordTypeList.length) + (typeIndex < plan.backgroundPerSubject % recordTypeList.length ? 1 : 0);
    const rich = richSubjectRecords[info.name];
    const single = info.name === 'SocialCareCase' ? plan.single.length : 0;
    const total = single + plan.rich.length * rich.count + plan.background.length * perBackground;
    function* rows(): Generator<CopyValue[]> {
      let n = 0;
      const row = (owner: string, nhsNumber: string): CopyValue[] => {
        n += 1;
        return [owner, `${info.name}-${n}`, nhsNumber, ...info.fields.map((f) => valueOf(f.name, f.kind, random, n))];
      };
      if (single > 0) for (const nhsNumber of plan.single) yield row('kensington-chelsea', nhsNumber);
      for (const nhsNumber of plan.rich) for (let i = 0; i < rich.count; i += 1) yield row(rich.owner, nhsNumber);
      for (const nhsNumber of plan.background) for (let i = 0; i < perBackground; i += 1) yield row('hammersmith-fulham', nhsNumber);
    }
    written += await copyRows(sql, getTableName(info.table), columnNames, rows(), { label: `${info.name} records`, total });
  }
  await sql`analyze`;
  return written;
}
