/**
 * The events of one request, built the way CONTRACT §7 asks: one event per disclosure, i.e. per
 * request x subject x owner x action, listing the records it concerns (IHE BALP likewise records
 * one AuditEvent per patient). A request releasing 50 records about one person held by three
 * organisations writes three events, not fifty.
 */
import type { AuditAgreementRef, AuditEventInput, AuditJson, AuditRecordEntry } from './audit-event.js';

/** The actor and request columns every event of one request carries. */
export interface RequestActor {
  readonly at?: Date | undefined;
  readonly requestId: string;
  readonly actorOrg: string | null;
  readonly actorUser: string | null;
  readonly actorRoles: readonly string[];
  readonly purpose?: string | null | undefined;
  readonly caseRef?: string | null | undefined;
  readonly operationName?: string | null | undefined;
  readonly queryHash?: string | null | undefined;
}

/** One record a request released, with what was released of it and under which agreements. */
export interface DisclosedRecord {
  readonly ownerOrg: string;
  readonly nhsNumber: string;
  readonly recordType: string;
  readonly recordId: string;
  readonly sensitivity: string;
  readonly fields: Iterable<string>;
  readonly withheld: Iterable<string>;
  readonly agreements: readonly AuditAgreementRef[];
  /** Released only because the caller declared break-glass. */
  readonly breakGlass: boolean;
}

/** A record type asked for about a subject that no agreement shares with the caller. */
export interface DeniedRecordType {
  readonly nhsNumber: string;
  readonly recordType: string;
  readonly sensitivity: string;
}

/** A record the caller's organisation wrote (published or retracted), with facts about it. */
export interface WrittenRecord {
  readonly nhsNumber: string;
  readonly recordType: string;
  readonly recordId: string;
  readonly sensitivity: string;
  readonly details?: { readonly [key: string]: AuditJson } | undefined;
}

/**
 * Sensitivity classes from least to most restricted (UK GDPR Art 9 special category and Art 10
 * criminal offence data both need a condition beyond Art 6; Art 10 data may be processed only
 * under official authority or a Schedule 1 condition, so it ranks last). An event listing records
 * of several classes carries the most restricted one, so a DPO filtering for it misses nothing.
 */
const sensitivityRank: Readonly<Record<string, number>> = { personal: 0, 'special-category': 1, 'criminal-offence': 2 };

function mostRestricted(values: Iterable<string>): string | null {
  let best: string | null = null;
  for (const value of values) if (best === null || (sensitivityRank[value] ?? 3) > (sensitivityRank[best] ?? 3)) best = value;
  return best;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byRecord(a: AuditRecordEntry, b: AuditRecordEntry): number {
  return compare(a.recordType, b.recordType) || compare(a.recordId ?? '', b.recordId ?? '');
}

interface Group<T> {
  readonly ownerOrg: string | null;
  readonly nhsNumber: string;
  readonly action: AuditEventInput['action'];
  readonly items: T[];
}

/**
 * Groups items by owner, subject and action, ordered by owner first. Each owner's events of a
 * request therefore take consecutive `seq` numbers: an owner's DPO sees only its own events, and
 * another owner's event between two of them would tell it, by the gap, that the same request
 * (often about one person) released something of another organisation's.
 */
function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => Omit<Group<T>, 'items'>): Group<T>[] {
  const groups = new Map<string, Group<T>>();
  for (const item of items) {
    const key = keyOf(item);
    const id = `${key.ownerOrg ?? ''}\u0000${key.nhsNumber}\u0000${key.action}`;
    let group = groups.get(id);
    if (group === undefined) {
      group = { ...key, items: [] };
      groups.set(id, group);
    }
    group.items.push(item);
  }
  return [...groups.values()].sort(
    (a, b) => compare(a.ownerOrg ?? '', b.ownerOrg ?? '') || compare(a.nhsNumber, b.nhsNumber) || compare(a.action, b.action),
  );
}

/**
 * READ / BREAK_GLASS events for what a request released and DENY events for what it asked for
 * and was refused. `breakGlassReason` goes on BREAK_GLASS events only.
 */
export function disclosureEvents(
  actor: RequestActor,
  released: Iterable<DisclosedRecord>,
  denied: Iterable<DeniedRecordType>,
  breakGlassReason: string | undefined,
): AuditEventInput[] {
  const events: AuditEventInput[] = [];
  const groups = groupBy(released, (r) => ({ ownerOrg: r.ownerOrg, nhsNumber: r.nhsNumber, action: r.breakGlass ? 'BREAK_GLASS' : 'READ' }));
  for (const group of groups) {
    const breakGlass = group.action === 'BREAK_GLASS';
    events.push({
      ...actor,
      action: group.action,
      outcome: 'SUCCESS',
      ownerOrg: group.ownerOrg,
      nhsNumber: group.nhsNumber,
      sensitivity: mostRestricted(group.items.map((r) => r.sensitivity)),
      records: group.items
        .map((r) => ({ recordType: r.recordType, recordId: r.recordId, fields: [...r.fields].sort(), withheld: [...r.withheld].sort(), agreements: r.agreements }))
        .sort(byRecord),
      details: breakGlass && breakGlassReason !== undefined ? { breakGlassReason } : null,
    });
  }
  // A DENY names only what the caller itself asked for (type and NHS number): never which
  // records exist or who holds them, so the trail stores nothing the caller did not already have.
  for (const group of groupBy(denied, (d) => ({ ownerOrg: null, nhsNumber: d.nhsNumber, action: 'DENY' }))) {
    events.push({
      ...actor,
      action: 'DENY',
      outcome: 'DENIED',
      nhsNumber: group.nhsNumber,
      sensitivity: mostRestricted(group.items.map((d) => d.sensitivity)),
      records: group.items.map((d) => ({ recordType: d.recordType, recordId: null, fields: [], withheld: [], agreements: [] })).sort(byRecord),
      details: { reason: 'no agreement shares this record type with the caller for this purpose and role' },
    });
  }
  return events;
}

/**
 * PUBLISH or RETRACT events for records `owner` wrote (through the actor): one per subject, the
 * records' own facts (external id, created or updated) under `details.records` by record id.
 */
export function writeEvents(actor: RequestActor, action: 'PUBLISH' | 'RETRACT', owner: string, written: Iterable<WrittenRecord>): AuditEventInput[] {
  return groupBy(written, (w) => ({ ownerOrg: owner, nhsNumber: w.nhsNumber, action })).map((group) => {
    const facts: Record<string, AuditJson> = {};
    for (const w of group.items) if (w.details !== undefined) facts[w.recordId] = w.details;
    return {
      ...actor,
      action,
      outcome: 'SUCCESS' as const,
      ownerOrg: group.ownerOrg,
      nhsNumber: group.nhsNumber,
      sensitivity: mostRestricted(group.items.map((w) => w.sensitivity)),
      records: group.items.map((w) => ({ recordType: w.recordType, recordId: w.recordId, fields: [], withheld: [], agreements: [] })).sort(byRecord),
      details: Object.keys(facts).length === 0 ? null : { records: facts },
    };
  });
}
