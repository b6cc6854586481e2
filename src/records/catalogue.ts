/**
 * The record types of CONTRACT §5 as data: one description that the publisher, the loaders,
 * the agreement validator and the enforcement layer all read, so a field added here is known
 * everywhere at once.
 */
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import * as tables from '../db/tables.js';

export type RecordType =
  | 'Demographics'
  | 'SocialCareCase'
  | 'SchoolEnrolment'
  | 'HousingTenancy'
  | 'PoliceNotification'
  | 'GpRegistration';

/** UK GDPR class of the data: Art 9 special category and Art 10 criminal offence data need an extra basis. */
export type Sensitivity = 'personal' | 'special-category' | 'criminal-offence';

export type FieldKind =
  | { readonly type: 'string'; readonly maxLength: number }
  | { readonly type: 'date' }
  | { readonly type: 'int'; readonly min: number; readonly max: number }
  | { readonly type: 'float'; readonly min: number; readonly max: number }
  | { readonly type: 'boolean' }
  | { readonly type: 'enum'; readonly values: readonly string[] };

export interface FieldInfo {
  readonly name: string;
  readonly kind: FieldKind;
}

export interface RecordTypeInfo {
  readonly name: RecordType;
  /** Name of the list on `Subject` and on `PublishRecordsInput`. */
  readonly listName: string;
  readonly sensitivity: Sensitivity;
  readonly table: PgTable & Record<string, AnyPgColumn>;
  /** The type's own fields (not the `Record` interface fields), in schema order. */
  readonly fields: readonly FieldInfo[];
}

/** Fields of the `Record` interface: shown on every visible record (CONTRACT §4). */
export const recordInterfaceFields = ['id', 'externalId', 'owner', 'recordType', 'recordedAt', 'sharedUnder'] as const;

const str = (maxLength = 200): FieldKind => ({ type: 'string', maxLength });
const dateKind: FieldKind = { type: 'date' };
const enumKind = (...values: string[]): FieldKind => ({ type: 'enum', values });

function fields(spec: Record<string, FieldKind>): FieldInfo[] {
  return Object.entries(spec).map(([name, kind]) => ({ name, kind }));
}

const list: readonly RecordTypeInfo[] = [
  {
    name: 'Demographics',
    listName: 'demographics',
    sensitivity: 'personal',
    table: tables.demographics as never,
    fields: fields({ givenName: str(), familyName: str(), dateOfBirth: dateKind, postcode: str(10), addressLine: str(500) }),
  },
  {
    name: 'SocialCareCase',
    listName: 'socialCareCases',
    sensitivity: 'special-category',
    table: tables.socialCareCases as never,
    fields: fields({
      caseRef: str(100),
      service: enumKind('CHILDREN', 'ADULTS'),
      status: enumKind('OPEN', 'CLOSED'),
      category: str(),
      openedOn: dateKind,
      closedOn: dateKind,
      leadWorker: str(),
      summary: str(10_000),
    }),
  },
  {
    name: 'SchoolEnrolment',
    listName: 'schoolEnrolments',
    sensitivity: 'personal',
    table: tables.schoolEnrolments as never,
    fields: fields({
      schoolUrn: str(20),
      schoolName: str(),
      yearGroup: { type: 'int', min: -3, max: 14 },
      startedOn: dateKind,
      attendancePercent: { type: 'float', min: 0, max: 100 },
      exclusionsThisYear: { type: 'int', min: 0, max: 1000 },
    }),
  },
  {
    name: 'HousingTenancy',
    listName: 'housingTenancies',
    sensitivity: 'personal',
    table: tables.housingTenancies as never,
    fields: fields({
      tenancyRef: str(100),
      addressLine: str(500),
      postcode: str(10),
      startedOn: dateKind,
      endedOn: dateKind,
      rentArrears: { type: 'boolean' },
    }),
  },
  {
    name: 'PoliceNotification',
    listName: 'policeNotifications',
    sensitivity: 'criminal-offence',
    table: tables.policeNotifications as never,
    fields: fields({
      reference: str(100),
      kind: enumKind('DOMESTIC_ABUSE', 'MISSING_PERSON', 'CHILD_CONCERN', 'OTHER'),
      occurredOn: dateKind,
      riskLevel: enumKind('STANDARD', 'MEDIUM', 'HIGH'),
      summary: str(10_000),
    }),
  },
  {
    name: 'GpRegistration',
    listName: 'gpRegistrations',
    sensitivity: 'special-category',
    table: tables.gpRegistrations as never,
    fields: fields({ practiceOdsCode: str(10), practiceName: str(), registeredOn: dateKind }),
  },
];

export const recordTypeList: readonly RecordTypeInfo[] = Object.freeze(list);
export const recordTypes: Readonly<Record<RecordType, RecordTypeInfo>> = Object.freeze(
  Object.fromEntries(list.map((info) => [info.name, info])) as Record<RecordType, RecordTypeInfo>,
);

export function isRecordType(value: unknown): value is RecordType {
  return typeof value === 'string' && Object.hasOwn(recordTypes, value);
}

export function fieldOf(type: RecordType, field: string): FieldInfo | undefined {
  return recordTypes[type].fields.find((f) => f.name === field);
}
