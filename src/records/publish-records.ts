/**
 * Publishing: an organisation creates or updates its own records, all or nothing (CONTRACT §5).
 */
import { sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/index.js';
import { subjects } from '../db/tables.js';
import type { RecordType } from './catalogue.js';
import { validatePublishInput, type PublishInput, type ValidBatch } from './validate-publish-input.js';

export interface PublishedRecord {
  readonly recordType: RecordType;
  readonly id: string;
  readonly externalId: string;
  readonly nhsNumber: string;
  /** False when an existing record (same owner, type and externalId) was updated. */
  readonly created: boolean;
}

export interface PublishOutcome {
  /** Records written. */
  readonly count: number;
  /** Per record type published, in catalogue order. */
  readonly byType: readonly { readonly recordType: RecordType; readonly created: number; readonly updated: number }[];
  /** Every record written, in input order within each type (for the audit trail's PUBLISH events). */
  readonly records: readonly PublishedRecord[];
}

export interface PublishRecordsOptions {
  /** The publishing organisation (the caller's verified `iss`): it owns every record written. */
  readonly owner: string;
  readonly input: PublishInput;
  readonly clock: Clock;
  /**
   * Runs inside the publish transaction once every row is written; if it throws, nothing is
   * written. Lets the audit trail's PUBLISH events commit or fail together with the records.
   * Not called when the input holds no records.
   */
  readonly afterWrite?: (tx: Tx, outcome: PublishOutcome) => Promise<void>;
}

interface ReturnedRow {
  id: string;
  externalId: string;
  nhsNumber: string;
  created: boolean;
}

async function upsertBatch(tx: Tx, owner: string, now: Date, batch: ValidBatch): Promise<PublishedRecord[]> {
  const { table, fields, name } = batch.type;
  const rows = batch.records.map((record) => ({
    ...record.fields,
    ownerOrg: owner,
    externalId: record.externalId,
    nhsNumber: record.nhsNumber,
    recordedAt: now,
    updatedAt: now,
  }));
  // A republished record is replaced whole: every field takes the new value (null when omitted),
  // so an owner can clear a field it should no longer hold.
  const excluded = (column: string) => sql`excluded.${sql.identifier(table[column]!.name)}`;
  const set = Object.fromEntries([...fields.map((field) => field.name), 'nhsNumber'].map((column) => [column, excluded(column)]));
  const returned = (await tx
    .insert(table)
    .values(rows as never)
    .onConflictDoUpdate({
      target: [table.ownerOrg!, table.externalId!],
      set: { ...set, recordedAt: now, updatedAt: now } as never,
    })
    .returning({
      id: table.id!,
      externalId: table.externalId!,
      nhsNumber: table.nhsNumber!,
      // xmax is 0 only for a row version this statement inserted; an update by ON CONFLICT sets it.
      created: sql<boolean>`(xmax = 0)`,
    })) as ReturnedRow[];
  const byExternalId = new Map(returned.map((row) => [row.externalId, row]));
  return batch.records.map((record) => {
    const row = byExternalId.get(record.externalId);
    if (row === undefined) throw new Error(`upsert of ${name} returned no row for one of its records`);
    return { recordType: name, id: row.id, externalId: row.externalId, nhsNumber: row.nhsNumber, created: Boolean(row.created) };
  });
}

/**
 * Validates `input` in full against the catalogue, then upserts every record by
 * (owner, type, externalId) in one transaction. Any invalid item: `InputError` with code
 * `BAD_USER_INPUT` listing every problem, and nothing is written. A database failure part-way
 * rolls the whole call back.
 */
export async function publishRecords(db: Db, options: PublishRecordsOptions): Promise<PublishOutcome> {
  const batches = validatePublishInput(options.input);
  if (batches.length === 0) return { count: 0, byType: [], records: [] };
  const now = options.clock();
  return db.transaction(async (tx) => {
    const nhsNumbers = [...new Set(batches.flatMap((batch) => batch.records.map((record) => record.nhsNumber)))];
    await tx
      .insert(subjects)
      .values(nhsNumbers.map((nhsNumber) => ({ nhsNumber, createdAt: now })))
      .onConflictDoNothing();
    const records: PublishedRecord[] = [];
    const byType: { recordType: RecordType; created: number; updated: number }[] = [];
    for (const batch of batches) {
      const written = await upsertBatch(tx, options.owner, now, batch);
      const created = written.filter((record) => record.created).length;
      byType.push({ recordType: batch.type.name, created, updated: written.length - created });
      records.push(...written);
    }
    const outcome: PublishOutcome = { count: records.length, byType, records };
    if (options.afterWrite !== undefined) await options.afterWrite(tx, outcome);
    return outcome;
  });
}
