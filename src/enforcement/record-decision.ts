import type { RecordType } from '../records/index.js';

/** An agreement version cited for a release (audit events carry the payload hash too). */
export interface AgreementCitation {
  readonly id: string;
  readonly version: number;
  readonly payloadHash: string;
}

/** What the caller may see of one record: decided once per record, read by every field resolver. */
export interface RecordDecision {
  readonly visible: boolean;
  /** The type's own fields the caller may see (Record-interface fields are always shown when visible). */
  readonly fields: ReadonlySet<string>;
  /** Agreements that made the record visible; empty when the caller owns it. */
  readonly sharedUnder: readonly AgreementCitation[];
  /** True when some field is released only because of a break-glass claim. */
  readonly breakGlass: boolean;
}

/** One loaded row of a record table, as the loaders return it. */
export interface RecordRow {
  readonly id: string;
  readonly ownerOrg: string;
  readonly externalId: string;
  readonly nhsNumber: string;
  readonly recordedAt: Date;
  readonly [field: string]: unknown;
}

/**
 * A record that passed the decision, as handed to GraphQL. Field resolvers only ever read values
 * through it, and only the fields its decision allows (see enforce-record-fields.ts).
 */
export interface ReleasedRecord {
  readonly type: RecordType;
  readonly row: RecordRow;
  readonly decision: RecordDecision;
}

const released = new WeakSet<object>();

export function releaseRecord(type: RecordType, row: RecordRow, decision: RecordDecision): ReleasedRecord {
  const record = Object.freeze({ type, row, decision });
  released.add(record);
  return record;
}

/**
 * Only objects made by `releaseRecord` are records to GraphQL. Anything else reaching a record
 * field is a programming error, and the field fails closed rather than reading an arbitrary object.
 */
export function isReleasedRecord(value: unknown): value is ReleasedRecord {
  return typeof value === 'object' && value !== null && released.has(value);
}
