/**
 * Per-request batched loading of a subject's records. Every `subject { ... }` list resolved in
 * one tick becomes one SQL statement per record type, however many subjects and records there
 * are, and the caller's visibility filter is part of that statement, so rows the caller may
 * not see never leave the database.
 */
import DataLoader from 'dataloader';
import { and, asc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { recordTypes, type RecordType } from './catalogue.js';

interface StoredRow {
  readonly id: string;
  readonly ownerOrg: string;
  readonly externalId: string;
  readonly nhsNumber: string;
  readonly recordedAt: Date;
  readonly updatedAt: Date;
  readonly [field: string]: unknown;
}

/** A record as stored: the `Record` interface columns plus the type's own fields, camelCase. */
export interface RecordRow extends StoredRow {
  readonly recordType: RecordType;
}

/**
 * The rows of a record type's table this caller may load, as an SQL condition on that table;
 * `undefined` means none at all (no query is sent).
 */
export type RecordFilter = (recordType: RecordType) => SQL | undefined;

export interface RecordLoaders {
  /** The loader of one record type's rows by subject NHS number, ordered by recordedAt then id. */
  bySubject(recordType: RecordType): DataLoader<string, readonly RecordRow[]>;
}

export interface CreateRecordLoadersOptions {
  readonly filter: RecordFilter;
  /**
   * For a record type whose decisions depend on the subject's age: the SQL computing it per row.
   * It is selected as `subjectAgeYears`, so the code path decides with exactly the age the SQL
   * filter used.
   */
  readonly subjectAge?: (recordType: RecordType) => SQL<number | null> | undefined;
  /** Most NHS numbers in one statement (default 500); a larger batch is split. */
  readonly maxBatchSize?: number;
}

/**
 * A PostgreSQL array literal of strings, sent as one parameter (drizzle would expand a JS array
 * into a list of parameters): every element quoted, quotes and backslashes escaped.
 */
function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * Creates the loaders for one request. Never share them between requests or callers: their
 * cache holds rows chosen by this caller's filter.
 */
export function createRecordLoaders(db: Db, options: CreateRecordLoadersOptions): RecordLoaders {
  const loaders = new Map<RecordType, DataLoader<string, readonly RecordRow[]>>();

  function loaderOf(recordType: RecordType): DataLoader<string, readonly RecordRow[]> {
    const { table } = recordTypes[recordType];
    return new DataLoader<string, readonly RecordRow[]>(
      async (nhsNumbers) => {
        const visible = options.filter(recordType);
        // Deny by default: no filter means nothing is visible, so nothing is read.
        if (visible === undefined) return nhsNumbers.map(() => []);
        const age = options.subjectAge?.(recordType);
        // `= any(array)` rather than `in (...)`, and prepared: the statement's text depends only on
        // the caller's filter, not on how many subjects the batch holds, so PostgreSQL parses and
        // plans it once per connection instead of at every request.
        const rows = (await db
          .select(age === undefined ? getTableColumns(table) : { ...getTableColumns(table), subjectAgeYears: age })
          .from(table)
          .where(and(sql`${table.nhsNumber!} = any(${textArrayLiteral(nhsNumbers)}::text[])`, visible))
          .orderBy(asc(table.recordedAt!), asc(table.id!))
          .prepare('accord_record_load')
          .execute()) as StoredRow[];
        const bySubject = new Map<string, RecordRow[]>(nhsNumbers.map((nhsNumber) => [nhsNumber, []]));
        for (const row of rows) bySubject.get(row.nhsNumber)?.push({ ...row, recordType });
        return nhsNumbers.map((nhsNumber) => bySubject.get(nhsNumber) ?? []);
      },
      { maxBatchSize: options.maxBatchSize ?? 500 },
    );
  }

  return {
    bySubject(recordType) {
      let loader = loaders.get(recordType);
      if (loader === undefined) {
        loader = loaderOf(recordType);
        loaders.set(recordType, loader);
      }
      return loader;
    },
  };
}

/**
 * The filter that shows a caller only its own organisation's records: the deny-by-default rule
 * (CONTRACT §4: an organisation always sees its own records; anything else needs an agreement).
 */
export function ownerOnlyFilter(org: string): RecordFilter {
  return (recordType) => eq(recordTypes[recordType].table.ownerOrg!, org);
}
