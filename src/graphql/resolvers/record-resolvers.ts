import { writeEvents } from '../../audit/index.js';
import { releaseRecord, type RecordRow, type ReleasedRecord } from '../../enforcement/index.js';
import { publishRecords, recordTypeList, recordTypes, retractRecords, type PublishOutcome, type RecordType, type RetractedRecord } from '../../records/index.js';
import type { RequestContext } from '../context.js';
import { actorOf } from './actor.js';
import { auditedWrite } from './audited-write.js';

interface SubjectRef {
  readonly nhsNumber: string;
}

/**
 * The records of one type about one subject that the caller may see. Rows are narrowed in SQL
 * by the caller's visibility filter, then each is decided again in code, which is the
 * authority: a row the code rejects is left out silently (never reported, so the response does
 * not reveal that it exists).
 */
async function visibleRecords(type: RecordType, subject: SubjectRef, context: RequestContext): Promise<ReleasedRecord[]> {
  if (!context.decisions.sharesFromOthers(type)) context.releases.denied(type, subject.nhsNumber);
  const rows = (await context.loaders.bySubject(type).load(subject.nhsNumber)) as readonly RecordRow[];
  const released: ReleasedRecord[] = [];
  for (const row of rows) {
    const decision = context.decisions.decide(type, row, typeof row.subjectAgeYears === 'number' ? row.subjectAgeYears : undefined);
    if (!decision.visible) continue;
    const record = releaseRecord(type, row, decision);
    context.releases.listed(record);
    released.push(record);
  }
  return released;
}

const subjectLists = Object.fromEntries(
  recordTypeList.map((info) => [info.listName, (subject: SubjectRef, _: unknown, context: RequestContext) => visibleRecords(info.name, subject, context)]),
);

export const recordResolvers = {
  Query: {
    // Always a Subject, whether or not the hub holds anything about this person (CONTRACT §4).
    subject: (_: unknown, args: { nhsNumber: string }): SubjectRef => ({ nhsNumber: args.nhsNumber }),
  },
  Subject: {
    nhsNumber: (subject: SubjectRef) => subject.nhsNumber,
    ...subjectLists,
  },
  Record: {
    __resolveType: (record: ReleasedRecord) => record.type,
  },
  Mutation: {
    publishRecords: async (_: unknown, args: { input: Record<string, unknown> }, context: RequestContext) => {
      const audited = auditedWrite(context, (written: PublishOutcome) =>
        writeEvents(
          actorOf(context),
          'PUBLISH',
          context.caller.org,
          written.records.map((record) => ({
            nhsNumber: record.nhsNumber,
            recordType: record.recordType,
            recordId: record.id,
            sensitivity: recordTypes[record.recordType].sensitivity,
            details: { externalId: record.externalId, created: record.created },
          })),
        ),
      );
      const outcome = await publishRecords(context.services.db, {
        owner: context.caller.org,
        input: args.input,
        clock: () => context.now,
        afterWrite: audited.afterWrite,
      });
      audited.committed();
      return { count: outcome.count, byType: outcome.byType };
    },
    retractRecords: async (_: unknown, args: { recordType: RecordType; externalIds: string[] }, context: RequestContext) => {
      const audited = auditedWrite(context, (retracted: readonly RetractedRecord[]) =>
        writeEvents(
          actorOf(context),
          'RETRACT',
          context.caller.org,
          retracted.map((record) => ({
            nhsNumber: record.nhsNumber,
            recordType: args.recordType,
            recordId: record.id,
            sensitivity: recordTypes[args.recordType].sensitivity,
            details: { externalId: record.externalId },
          })),
        ),
      );
      const removed = await retractRecords(context.services.db, {
        owner: context.caller.org,
        recordType: args.recordType,
        externalIds: args.externalIds,
        afterWrite: audited.afterWrite,
      });
      audited.committed();
      return removed.length;
    },
  },
};
