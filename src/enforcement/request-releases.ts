import type { DeniedRecordType, DisclosedRecord } from '../audit/index.js';
import { recordTypes, type RecordType } from '../records/index.js';
import type { AgreementCitation, ReleasedRecord } from './record-decision.js';

/** Everything one request released or withheld, gathered as its resolvers run. */
export interface ReleaseEntry {
  readonly record: ReleasedRecord;
  readonly released: Set<string>;
  readonly withheld: Set<string>;
}

export interface DenialEntry {
  readonly recordType: RecordType;
  readonly nhsNumber: string;
}

/**
 * Collects, per record, the fields actually sent to the caller (each resolved field, whatever
 * alias or fragment selected it, counted once) and the fields withheld, plus the record types
 * the caller asked for but holds no agreement for. The audit layer turns this into events
 * before the response may leave.
 */
export class RequestReleases {
  readonly #records = new Map<ReleasedRecord, ReleaseEntry>();
  readonly #denials = new Map<string, DenialEntry>();

  /**
   * A record handed to the response, before any of its fields resolve: even a selection of
   * only `__typename` tells the caller the record exists, so it is a release to audit.
   */
  listed(record: ReleasedRecord): void {
    this.#entry(record);
  }

  released(record: ReleasedRecord, field: string): void {
    this.#entry(record).released.add(field);
  }

  withheld(record: ReleasedRecord, field: string): void {
    this.#entry(record).withheld.add(field);
  }

  denied(recordType: RecordType, nhsNumber: string): void {
    this.#denials.set(`${recordType}|${nhsNumber}`, { recordType, nhsNumber });
  }

  get records(): readonly ReleaseEntry[] {
    return [...this.#records.values()];
  }

  get denials(): readonly DenialEntry[] {
    return [...this.#denials.values()];
  }

  /** What the request released, as the audit trail records it (one entry per record). */
  disclosed(): DisclosedRecord[] {
    return this.records.map(({ record, released, withheld }) => ({
      ownerOrg: record.row.ownerOrg,
      nhsNumber: record.row.nhsNumber,
      recordType: record.type,
      recordId: record.row.id,
      sensitivity: recordTypes[record.type].sensitivity,
      fields: released,
      withheld,
      agreements: record.decision.sharedUnder,
      breakGlass: record.decision.breakGlass,
    }));
  }

  /** The record types asked for and refused, as the audit trail records them. */
  deniedTypes(): DeniedRecordType[] {
    return this.denials.map(({ recordType, nhsNumber }) => ({ recordType, nhsNumber, sensitivity: recordTypes[recordType].sensitivity }));
  }

  get isEmpty(): boolean {
    return this.#records.size === 0 && this.#denials.size === 0;
  }

  #entry(record: ReleasedRecord): ReleaseEntry {
    let entry = this.#records.get(record);
    if (entry === undefined) {
      entry = { record, released: new Set(), withheld: new Set() };
      this.#records.set(record, entry);
    }
    return entry;
  }
}

export type { AgreementCitation };
