import { getTableName, sql, type SQL } from 'drizzle-orm';
import { tables } from '../db/index.js';
import { fieldOf, type RecordType, type RecordTypeInfo } from '../records/index.js';
import { subjectAgeField, type WhereCondition, type WhereValue } from './agreement-document.js';

/** A record table (or an alias of one) whose columns the compiled SQL refers to. */
export type RecordTable = RecordTypeInfo['table'];

/**
 * A `where` condition compiled once, usable two ways that always agree:
 * - `test(row, subjectAgeYears)` in code, on a record row as drizzle returns it (camelCase
 *   fields, dates as YYYY-MM-DD strings);
 * - `sql(table, now)` as a SQL boolean whose values are bound parameters, never spliced text.
 *
 * Semantics (two-valued, the same in both): a comparison on a field with no value (null), or on
 * `subject.ageYears` when the age is unknown, is false; `not` negates, `all` is and, `any` is or.
 * In SQL every comparison is wrapped in `coalesce(..., false)` so SQL's NULL never leaks into
 * `not` and the two paths decide identically.
 */
export interface CompiledWhere {
  /** Whether the condition uses `subject.ageYears` (the loader must then supply the age). */
  readonly usesSubjectAge: boolean;
  test(row: Readonly<Record<string, unknown>>, subjectAgeYears?: number): boolean;
  sql(table: RecordTable, now: Date): SQL;
}

/** The UTC calendar date of an instant, YYYY-MM-DD. */
function utcDate(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * `subject.ageYears`: whole years from the subject's date of birth to the UTC date of `now`, the
 * date of birth taken from the record owner's Demographics for the same NHS number. It is known
 * only when those records give exactly one date of birth; none, or several that disagree, make
 * the age unknown (and so every comparison on it false). Code and SQL below compute the same.
 */
export function subjectAgeYears(datesOfBirth: readonly (string | null | undefined)[], now: Date): number | undefined {
  const distinct = new Set(datesOfBirth.filter((d): d is string => typeof d === 'string'));
  if (distinct.size !== 1) return undefined;
  const dob = [...distinct][0] as string;
  const [year, month, day] = dob.split('-').map(Number) as [number, number, number];
  const today = utcDate(now);
  const [nowYear, nowMonth, nowDay] = today.split('-').map(Number) as [number, number, number];
  return nowYear - year - (month * 100 + day > nowMonth * 100 + nowDay ? 1 : 0);
}

/**
 * SQL for `subject.ageYears` of the rows of `table` at `now` (an int, or NULL when unknown),
 * also usable as a selected column so the code path gets exactly the age the SQL path used.
 */
export function subjectAgeSql(table: RecordTable, now: Date): SQL<number | null> {
  const today = utcDate(now);
  // Qualified by the outer table's name: drizzle renders a column of the query's own table
  // unqualified, which inside this subquery would bind to the demographics alias instead.
  const outer = sql.identifier(getTableName(table));
  return sql<number | null>`(select case when count(distinct accord_dob.date_of_birth) = 1 then (
      extract(year from ${today}::date) - extract(year from min(accord_dob.date_of_birth))
      - case when extract(month from min(accord_dob.date_of_birth)) * 100 + extract(day from min(accord_dob.date_of_birth))
               > extract(month from ${today}::date) * 100 + extract(day from ${today}::date) then 1 else 0 end
    )::int end
    from ${tables.demographics} as accord_dob
    where accord_dob.nhs_number = ${outer}.nhs_number and accord_dob.owner_org = ${outer}.owner_org)`;
}

function compare(op: 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte', left: WhereValue, right: WhereValue): boolean {
  switch (op) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'lt':
      return left < right;
    case 'lte':
      return left <= right;
    case 'gt':
      return left > right;
    case 'gte':
      return left >= right;
  }
}

const sqlOperator = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/** A row value as the language compares it: null/undefined are "no value". */
function valueOf(raw: unknown): WhereValue | undefined {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return raw;
  if (raw instanceof Date) return raw.toISOString().slice(0, 10);
  return undefined;
}

/**
 * Compiles a validated condition for `recordType`. Throws TypeError on a condition that did not
 * pass `validateWhere` (a programmer's mistake: stored agreements were validated on submission).
 */
export function compileWhere(condition: WhereCondition, recordType: RecordType): CompiledWhere {
  let usesSubjectAge = false;

  type Node = { test(row: Readonly<Record<string, unknown>>, age: number | undefined): boolean; sql(table: RecordTable, now: Date): SQL };

  function compile(node: WhereCondition): Node {
    if ('all' in node || 'any' in node) {
      const isAll = 'all' in node;
      const children = (isAll ? node.all : node.any).map(compile);
      return {
        test: isAll ? (row, age) => children.every((c) => c.test(row, age)) : (row, age) => children.some((c) => c.test(row, age)),
        sql: (table, now) => sql`(${sql.join(children.map((c) => c.sql(table, now)), isAll ? sql` and ` : sql` or `)})`,
      };
    }
    if ('not' in node) {
      const child = compile(node.not);
      return { test: (row, age) => !child.test(row, age), sql: (table, now) => sql`(not ${child.sql(table, now)})` };
    }
    const { field } = node;
    const isAge = field === subjectAgeField;
    if (isAge) usesSubjectAge = true;
    else if (fieldOf(recordType, field) === undefined) throw new TypeError(`${recordType} has no field ${field}`);
    const read = isAge ? (_row: Readonly<Record<string, unknown>>, age: number | undefined) => age : (row: Readonly<Record<string, unknown>>) => valueOf(row[field]);
    const column = (table: RecordTable, now: Date): SQL => (isAge ? subjectAgeSql(table, now) : sql`${table[field]}`);

    if (node.op === 'in') {
      const values = node.value;
      return {
        test: (row, age) => {
          const value = read(row, age);
          return value !== undefined && values.includes(value);
        },
        sql: (table, now) => sql`coalesce(${column(table, now)} in (${sql.join(values.map((v) => sql`${v}`), sql`, `)}), false)`,
      };
    }
    const { op, value: constant } = node;
    return {
      test: (row, age) => {
        const value = read(row, age);
        return value !== undefined && typeof value === typeof constant && compare(op, value, constant);
      },
      // sql.raw only ever receives one of the six fixed operator spellings; the constant is bound.
      sql: (table, now) => sql`coalesce(${column(table, now)} ${sql.raw(sqlOperator[op])} ${constant}, false)`,
    };
  }

  const root = compile(condition);
  return {
    usesSubjectAge,
    test: (row, subjectAgeYears) => root.test(row, subjectAgeYears),
    sql: (table, now) => root.sql(table, now),
  };
}
