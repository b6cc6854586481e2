import { eq, or, sql, type SQL } from 'drizzle-orm';
import type { Caller } from '../auth/caller.js';
import type { Clock } from '../clock.js';
import { tables, type Db } from '../db/index.js';
import { recordInterfaceFields, recordTypes, type RecordType } from '../records/index.js';
import type { AgreementDocument, AgreementRef } from './agreement-document.js';
import { isInForce, statusesOfVersions, type AgreementStatus } from './agreement-status.js';
import { compileWhere, type CompiledWhere, type RecordTable } from './where.js';

/** What the index needs of a stored agreement version. */
export interface IndexableAgreement {
  readonly document: AgreementDocument;
  readonly payloadHash: string;
  readonly revokedAt: Date | null;
}

/** The part of the caller a decision depends on. */
export type DecisionCaller = Pick<Caller, 'org' | 'purpose' | 'roles' | 'breakGlass'>;

/** The decision for one record (CONTRACT §4). */
export interface RecordDecision {
  /** Whether the record is shown at all; when false, it must be left out without a trace. */
  readonly visible: boolean;
  /** The record type's own fields released (Record-interface fields are always shown when visible). */
  readonly fields: ReadonlySet<string>;
  /** The subset of `fields` released only by break-glass (audited as BREAK_GLASS). */
  readonly breakGlassFields: ReadonlySet<string>;
  /** Agreement versions that released something of this record; empty for the owner. */
  readonly sharedUnder: readonly AgreementRef[];
  /** Whether break-glass released anything the normal path would not have. */
  readonly breakGlass: boolean;
}

/** The decisions of one caller at one instant: built once per request by `forCaller`. */
export interface CallerDecisions {
  readonly caller: DecisionCaller;
  readonly now: Date;
  /**
   * A SQL condition on `table` (the record type's table or an alias of it) true exactly for the
   * rows `decide(...).visible` would show, given the age `subjectAgeSql` computes. Always
   * includes the caller's own records.
   */
  visibilitySql(recordType: RecordType, table: RecordTable): SQL;
  /**
   * The decision for one row of `recordType` (drizzle shape: `ownerOrg` and camelCase fields).
   * `subjectAgeYears` is needed only when `needsSubjectAge(recordType)`: pass the value of
   * `subjectAgeSql` (or `subjectAgeYears` over the owner's Demographics); without it, conditions
   * on `subject.ageYears` are false.
   */
  decide(recordType: RecordType, row: Readonly<Record<string, unknown>>, subjectAgeYears?: number): RecordDecision;
  /** Whether any condition this caller's grants for `recordType` test uses `subject.ageYears`. */
  needsSubjectAge(recordType: RecordType): boolean;
  /**
   * Whether any agreement in force (or break-glass) could show this caller records of
   * `recordType` owned by another organisation. When not, a request for that type is audited
   * as a DENY: the caller asked for something no agreement gives it.
   */
  sharesFromOthers(recordType: RecordType): boolean;
}

/** An immutable index of agreement versions. */
export interface DecisionSnapshot {
  /** Number of agreement versions indexed. */
  readonly size: number;
  forCaller(caller: DecisionCaller, now: Date): CallerDecisions;
  /** Status of one indexed version at `now` (undefined when not indexed). */
  statusOf(id: string, version: number, now: Date): AgreementStatus | undefined;
}

interface IndexedVersion {
  readonly ref: AgreementRef;
  readonly provider: string;
  readonly version: number;
  readonly validFrom: Date;
  readonly validUntil: Date;
  readonly reviewBy: string | undefined;
  readonly revokedAt: Date | null;
}

interface Grant {
  readonly agreement: IndexedVersion;
  readonly fields: ReadonlySet<string>;
  readonly where: CompiledWhere | undefined;
  /** Roles of which the caller must hold one; undefined: any role. */
  readonly roles: ReadonlySet<string> | undefined;
}

type ByType<T> = Map<RecordType, T[]>;

const interfaceFieldNames: ReadonlySet<string> = new Set(recordInterfaceFields);
const emptySet: ReadonlySet<string> = Object.freeze(new Set<string>());
const ownFieldsOf = Object.fromEntries(
  Object.values(recordTypes).map((info) => [info.name, Object.freeze(new Set(info.fields.map((f) => f.name)))]),
) as unknown as Record<RecordType, ReadonlySet<string>>;
/** An organisation sees every field of its own records, shared under nothing. */
const ownDecisions = Object.fromEntries(
  Object.entries(ownFieldsOf).map(([type, fields]) => [type, Object.freeze({ visible: true, fields, breakGlassFields: emptySet, sharedUnder: Object.freeze([]), breakGlass: false })]),
) as unknown as Record<RecordType, RecordDecision>;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function child<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function holdsOneOf(caller: DecisionCaller, roles: ReadonlySet<string> | undefined): boolean {
  return roles === undefined || caller.roles.some((role) => roles.has(role));
}

/**
 * Builds the decision index: `recipient → purpose → recordType → grants` and, for break-glass,
 * `recipient → recordType → grants`, so the work of one request depends on the caller's own
 * grants, never on how many agreements the hub holds. Status is not baked in: it is computed
 * from each version's dates against the instant `forCaller` is given, so validity bounds, review
 * dates and superseding take effect without a reload.
 */
export function buildDecisionIndex(agreements: readonly IndexableAgreement[]): DecisionSnapshot {
  const byRecipient = new Map<string, Map<string, ByType<Grant>>>();
  const breakGlassByRecipient = new Map<string, ByType<Grant>>();
  const versionsById = new Map<string, IndexedVersion[]>();

  for (const { document, payloadHash, revokedAt } of agreements) {
    const version: IndexedVersion = {
      ref: Object.freeze({ id: document.id, version: document.version, payloadHash }),
      provider: document.provider,
      version: document.version,
      validFrom: new Date(document.validFrom),
      validUntil: new Date(document.validUntil),
      reviewBy: document.reviewBy,
      revokedAt,
    };
    push(versionsById, document.id, version);
    const scope = document.scope.map((entry) => ({
      recordType: entry.recordType,
      fields: new Set(entry.fields.filter((f) => !interfaceFieldNames.has(f))) as ReadonlySet<string>,
      where: entry.where === undefined ? undefined : compileWhere(entry.where, entry.recordType),
    }));
    const breakGlassRoles = document.breakGlass?.allowed === true ? new Set(document.breakGlass.roles ?? []) : undefined;
    for (const recipient of document.recipients) {
      // Fail closed: only an absent `roles` means any role. An empty list (refused on submission
      // now, but stored by earlier hubs, which read it as "any role") matches no role at all;
      // `accord agreements check` and a warning at start name such agreements so their parties
      // sign a new version that says what they mean.
      const roles = recipient.roles === undefined ? undefined : new Set(recipient.roles);
      const purposes = child(byRecipient, recipient.org, () => new Map<string, ByType<Grant>>());
      for (const purpose of document.purposes) {
        const types = child(purposes, purpose.code, () => new Map<RecordType, Grant[]>());
        for (const entry of scope) push(types, entry.recordType, { agreement: version, fields: entry.fields, where: entry.where, roles });
      }
      if (breakGlassRoles !== undefined && breakGlassRoles.size > 0) {
        const types = child(breakGlassByRecipient, recipient.org, () => new Map<RecordType, Grant[]>());
        // Break-glass ignores purpose and `where` (CONTRACT §4) but never the scope's fields.
        for (const entry of scope) push(types, entry.recordType, { agreement: version, fields: entry.fields, where: undefined, roles: breakGlassRoles });
      }
    }
  }

  function statusAt(agreement: IndexedVersion, now: Date, memo: Map<string, Map<number, AgreementStatus>>): AgreementStatus {
    const id = agreement.ref.id;
    let statuses = memo.get(id);
    if (statuses === undefined) {
      statuses = statusesOfVersions(versionsById.get(id) ?? [], now);
      memo.set(id, statuses);
    }
    const status = statuses.get(agreement.version);
    if (status === undefined) throw new TypeError(`agreement ${id} v${agreement.version} is not indexed`);
    return status;
  }

  return {
    size: agreements.length,
    statusOf(id, version, now) {
      return statusesOfVersions(versionsById.get(id) ?? [], now).get(version);
    },
    forCaller(caller, now) {
      const memo = new Map<string, Map<number, AgreementStatus>>();
      const usable = (grant: Grant) => holdsOneOf(caller, grant.roles) && isInForce(statusAt(grant.agreement, now, memo));

      /** recordType → provider → grants usable by this caller now. */
      const group = (source: ByType<Grant> | undefined): Map<RecordType, Map<string, Grant[]>> => {
        const result = new Map<RecordType, Map<string, Grant[]>>();
        for (const [type, grants] of source ?? []) {
          for (const grant of grants) {
            if (usable(grant)) push(child(result, type, () => new Map<string, Grant[]>()), grant.agreement.provider, grant);
          }
        }
        return result;
      };
      const normal = group(byRecipient.get(caller.org)?.get(caller.purpose));
      // A break-glass claim is only ever present when the token carried a reason (auth checks it).
      const breakGlass = caller.breakGlass === undefined ? new Map<RecordType, Map<string, Grant[]>>() : group(breakGlassByRecipient.get(caller.org));
      /** Decisions made in this request, by record type, owner and the grants that admit the row. */
      const decided = new Map<string, RecordDecision>();

      return {
        caller,
        now,
        sharesFromOthers(recordType) {
          const fromOthers = (byProvider: Map<string, Grant[]> | undefined) => [...(byProvider?.keys() ?? [])].some((p) => p !== caller.org);
          return fromOthers(normal.get(recordType)) || fromOthers(breakGlass.get(recordType));
        },
        needsSubjectAge(recordType) {
          for (const grants of normal.get(recordType)?.values() ?? []) {
            if (grants.some((g) => g.where?.usesSubjectAge === true)) return true;
          }
          return false;
        },
        visibilitySql(recordType, table) {
          const unconditional = new Set<string>();
          const conditional = new Map<string, SQL[]>();
          for (const [provider, grants] of normal.get(recordType) ?? []) {
            for (const grant of grants) {
              if (grant.where === undefined) unconditional.add(provider);
              else push(conditional, provider, grant.where.sql(table, now));
            }
          }
          for (const provider of breakGlass.get(recordType)?.keys() ?? []) unconditional.add(provider);
          unconditional.delete(caller.org);

          const parts: SQL[] = [sql`${table.ownerOrg} = ${caller.org}`];
          if (unconditional.size > 0) parts.push(sql`${table.ownerOrg} in (${sql.join([...unconditional].map((p) => sql`${p}`), sql`, `)})`);
          for (const [provider, conditions] of conditional) {
            if (unconditional.has(provider) || provider === caller.org) continue;
            parts.push(sql`(${table.ownerOrg} = ${provider} and (${sql.join(conditions, sql` or `)}))`);
          }
          return or(...parts) ?? sql`false`;
        },
        decide(recordType, row, subjectAgeYears) {
          const owner = row.ownerOrg;
          if (typeof owner !== 'string') throw new TypeError('decide() needs the row with its ownerOrg');
          if (owner === caller.org) return ownDecisions[recordType];
          const grants = normal.get(recordType)?.get(owner);
          const emergency = breakGlass.get(recordType)?.get(owner);
          if (grants === undefined && emergency === undefined) return hidden;
          // Which of the owner's grants admit this row: the decision depends on nothing else, so
          // records admitted by the same grants share one decision, computed once per request.
          let key = `${recordType}\u0000${owner}`;
          for (const grant of grants ?? []) key += grant.where === undefined || grant.where.test(row, subjectAgeYears) ? '1' : '0';
          let decision = decided.get(key);
          if (decision === undefined) {
            decision = decideFor(grants, emergency, key.slice(key.length - (grants?.length ?? 0)));
            decided.set(key, decision);
          }
          return decision;
        },
      };
    },
  };
}

const hidden: RecordDecision = Object.freeze({ visible: false, fields: emptySet, breakGlassFields: emptySet, sharedUnder: Object.freeze([]), breakGlass: false });

/**
 * The decision for a record of another organisation's, given the grants that admit it (`admits`
 * has a '1' for each of `grants` whose condition the row meets) and the break-glass grants.
 */
function decideFor(grants: readonly Grant[] | undefined, emergency: readonly Grant[] | undefined, admits: string): RecordDecision {
  const fields = new Set<string>();
  const sharedUnder: AgreementRef[] = [];
  let visible = false;
  (grants ?? []).forEach((grant, i) => {
    if (admits[i] !== '1') return;
    visible = true;
    for (const field of grant.fields) fields.add(field);
    if (!sharedUnder.includes(grant.agreement.ref)) sharedUnder.push(grant.agreement.ref);
  });
  // Break-glass releases only what the normal path did not (fields, or the record itself),
  // so BREAK_GLASS audit events list exactly what the emergency exposed and nothing
  // routine is logged as one.
  const breakGlassFields = new Set<string>();
  let breakGlassUsed = false;
  for (const grant of emergency ?? []) {
    const extra = [...grant.fields].filter((field) => !fields.has(field));
    if (extra.length === 0 && visible) continue;
    for (const field of extra) breakGlassFields.add(field);
    if (!sharedUnder.includes(grant.agreement.ref)) sharedUnder.push(grant.agreement.ref);
    breakGlassUsed = true;
  }
  for (const field of breakGlassFields) fields.add(field);
  return { visible: visible || breakGlassUsed, fields, breakGlassFields, sharedUnder, breakGlass: breakGlassUsed };
}

/** The live decision index of one hub instance, kept in step with the database. */
export interface DecisionIndex {
  /**
   * Reloads the index when the `agreements` generation in `hub_state` changed since the last
   * load (one cheap query otherwise). Run once per request, before `forCaller`, so a submission
   * or revocation made through any hub instance takes effect at this instance's next request.
   * Rejects when the database cannot be read: the caller must then deny (CONTRACT §4).
   */
  refresh(): Promise<void>;
  /** Decisions for one request; `now` defaults to the clock. Throws before the first `refresh()`. */
  forCaller(caller: DecisionCaller, now?: Date): CallerDecisions;
  /** The generation loaded, undefined before the first refresh. */
  readonly generation: number | undefined;
  /** The snapshot in use (for status look-ups and metrics). */
  readonly snapshot: DecisionSnapshot | undefined;
}

export function createDecisionIndex(db: Db, options: { readonly clock: Clock }): DecisionIndex {
  let snapshot: DecisionSnapshot | undefined;
  let generation: number | undefined;
  let inFlight: Promise<void> | undefined;

  async function load(): Promise<void> {
    const [state] = await db.select({ generation: tables.hubState.generation }).from(tables.hubState).where(eq(tables.hubState.key, 'agreements'));
    const current = state?.generation ?? 0;
    if (snapshot !== undefined && current === generation) return;
    // Rows are read after the generation, so they are at least as new as it: a change landing in
    // between is loaded now and merely reloaded once more at the next refresh.
    const rows = await db
      .select({ document: tables.agreements.document, payloadHash: tables.agreements.payloadHash, revokedAt: tables.agreements.revokedAt })
      .from(tables.agreements);
    snapshot = buildDecisionIndex(rows.map((row) => ({ document: row.document as unknown as AgreementDocument, payloadHash: row.payloadHash, revokedAt: row.revokedAt })));
    generation = current;
  }

  return {
    refresh() {
      // Concurrent requests share one reload instead of each reading every agreement.
      inFlight ??= load().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    forCaller(caller, now = options.clock()) {
      if (snapshot === undefined) throw new Error('the decision index has not been loaded: call refresh() first');
      return snapshot.forCaller(caller, now);
    },
    get generation() {
      return generation;
    },
    get snapshot() {
      return snapshot;
    },
  };
}
