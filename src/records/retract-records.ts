/**
 * Retracting: an organisation removes some of its own records (CONTRACT §5 `retractRecords`).
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { Db, Tx } from '../db/index.js';
import { InputError, type Problem } from '../errors.js';
import { isRecordType, recordTypes, type RecordType } from './catalogue.js';
import { externalIdProblem } from './validate-publish-input.js';

export interface RetractedRecord {
  readonly id: string;
  readonly externalId: string;
  readonly nhsNumber: string;
}

export interface RetractRecordsOptions {
  /** The retracting organisation (the caller's verified `iss`): only its own records are touched. */
  readonly owner: string;
  readonly recordType: RecordType;
  readonly externalIds: readonly string[];
  /**
   * Runs inside the same transaction after the rows are deleted; if it throws, nothing is
   * deleted. Lets the RETRACT audit events commit or fail together with the deletion.
   */
  readonly afterWrite?: (tx: Tx, retracted: readonly RetractedRecord[]) => Promise<void>;
}

/** The same bound as publishing: one call touches at most 1000 records. */
export const maxRetractIds = 1000;

/**
 * Deletes the owner's records of one type with the given externalIds and returns those deleted.
 * Ids that match nothing of the owner's, including ids another organisation uses, are ignored
 * silently: the answer must not reveal whether someone else holds a record with that id.
 */
export async function retractRecords(db: Db, options: RetractRecordsOptions): Promise<RetractedRecord[]> {
  const problems: Problem[] = [];
  if (!isRecordType(options.recordType)) problems.push({ path: 'recordType', reason: 'is not a record type' });
  if (!Array.isArray(options.externalIds)) {
    problems.push({ path: 'externalIds', reason: 'must be a list' });
  } else if (options.externalIds.length > maxRetractIds) {
    problems.push({ path: 'externalIds', reason: `at most ${maxRetractIds} ids may be retracted in one call (got ${options.externalIds.length})` });
  } else {
    options.externalIds.forEach((id, index) => {
      const problem = externalIdProblem(id);
      if (problem !== undefined) problems.push({ path: `externalIds[${index}]`, reason: problem });
    });
  }
  if (problems.length > 0) throw new InputError('BAD_USER_INPUT', 'invalid retraction', problems);

  const externalIds = [...new Set(options.externalIds)];
  if (externalIds.length === 0) return [];
  const { table } = recordTypes[options.recordType];
  return db.transaction(async (tx) => {
    const deleted = (await tx
      .delete(table)
      .where(and(eq(table.ownerOrg!, options.owner), inArray(table.externalId!, externalIds)))
      .returning({ id: table.id!, externalId: table.externalId!, nhsNumber: table.nhsNumber! })) as RetractedRecord[];
    if (options.afterWrite !== undefined) await options.afterWrite(tx, deleted);
    return deleted;
  });
}
