/**
 * The hash chain of CONTRACT §7: `hash = hex SHA-256(prevHash ‖ JCS(event))`.
 *
 * Precisely (so a partner or auditor can recompute it with any RFC 8785 library):
 *
 * - The hashed object is the stored event **without** `prevHash` and `hash`, with every key
 *   always present (absent values are JSON `null`, absent lists `[]`, never omitted):
 *   `seq` (JSON number), `id` (lower-case UUID), `at` (RFC 3339 UTC with exactly three
 *   fractional digits, as `Date.prototype.toISOString` writes it, e.g.
 *   `2026-03-01T09:30:00.000Z`), `requestId`, `actorOrg`, `actorUser`, `actorRoles` (array),
 *   `purpose`, `caseRef`, `action`, `ownerOrg`, `nhsNumber`, `records` (array of
 *   `{recordType, recordId, fields, withheld, agreements}`, `agreements` an array of
 *   `{id, version, payloadHash}`), `outcome`, `operationName`, `queryHash`, `sensitivity`,
 *   `details` (object or null): 18 keys.
 * - Events written before events listed their records (one event per record) are hashed as they
 *   were written: the same keys with `recordType`, `recordId`, `fields` (array) and `agreements`
 *   in place of `records` (21 keys). A verifier tells the two apart by the `records` column
 *   being NULL for them.
 * - That object is serialised with the JSON Canonicalization Scheme (RFC 8785): keys sorted by
 *   UTF-16 code units, no whitespace, ECMAScript number and string forms. The bytes are UTF-8.
 * - The input to SHA-256 is the 64 ASCII hex characters of `prevHash` followed immediately by
 *   those JCS bytes. The result is written as 64 lower-case hex characters.
 * - The first event (seq 1) has `prevHash` = {@link GENESIS_HASH} (64 zeros).
 */
import { hash as oneShotHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { AuditAgreementRef, AuditEventBody, AuditJson, AuditRecordEntry, LegacyRecordColumns } from './audit-event.js';

// The package is CommonJS (`module.exports = fn`) with an ES-style `export default` in its
// typings, which NodeNext resolution reads as `{ default: fn }`; at run time it is the function.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** `prevHash` of the first event: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The event fields that enter the hash: the stored event minus `prevHash` and `hash`. */
export type HashedAuditEvent = AuditEventBody & { readonly seq: number; readonly legacy?: LegacyRecordColumns | undefined };

function agreementObjects(agreements: readonly AuditAgreementRef[]): Record<string, unknown>[] {
  return agreements.map((a) => ({ id: a.id, version: a.version, payloadHash: a.payloadHash }));
}

/** The JSON object that is canonicalised for an event, exactly as described above. */
export function hashedObjectOf(event: HashedAuditEvent): Record<string, unknown> {
  return hashedObjectWithAt(event, event.at.toISOString());
}

/**
 * {@link hashedObjectOf} with `at` given as its RFC 3339 string: the verifier's reference path
 * for a row whose values are not of the types the writer stores.
 */
export function hashedObjectWithAt(event: Omit<HashedAuditEvent, 'at'>, atIso: string): Record<string, unknown> {
  const common = {
    seq: event.seq,
    id: event.id,
    at: atIso,
    requestId: event.requestId,
    actorOrg: event.actorOrg,
    actorUser: event.actorUser,
    actorRoles: event.actorRoles,
    purpose: event.purpose,
    caseRef: event.caseRef,
    action: event.action,
    ownerOrg: event.ownerOrg,
    nhsNumber: event.nhsNumber,
    outcome: event.outcome,
    operationName: event.operationName,
    queryHash: event.queryHash,
    sensitivity: event.sensitivity,
    details: event.details,
  };
  const legacy = event.legacy;
  if (legacy !== undefined) {
    return { ...common, recordType: legacy.recordType, recordId: legacy.recordId, fields: legacy.fields, agreements: agreementObjects(legacy.agreements) };
  }
  return {
    ...common,
    records: event.records.map((r) => ({
      recordType: r.recordType,
      recordId: r.recordId,
      fields: r.fields,
      withheld: r.withheld,
      agreements: agreementObjects(r.agreements),
    })),
  };
}

/** RFC 8785 form of the hashed object, by the reference `canonicalize` package. */
export function canonicalEventJson(event: HashedAuditEvent): string {
  return jcs(hashedObjectOf(event));
}

/** RFC 8785 form of any JSON value, by the reference `canonicalize` package. */
export function jcs(value: unknown): string {
  const json = canonicalize(value);
  if (json === undefined) throw new TypeError('audit event cannot be canonicalised');
  return json;
}

// JSON.stringify writes strings and finite numbers exactly as RFC 8785 §3.2.2 requires
// (ECMAScript serialisation, which since ES2019 also escapes a lone surrogate as \udxxx), so a
// key or scalar needs nothing more. Most values need no escaping, and wrapping them in quotes
// directly is twice as fast as JSON.stringify; anything with a quote, backslash, control
// character or any surrogate (paired ones are written raw by JSON.stringify too, lone ones
// escaped) takes the full path.
// eslint-disable-next-line no-control-regex
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JCS form of a string, a finite number or null. */
function jcsScalar(value: string | number | null): string {
  if (typeof value === 'string') return needsEscape.test(value) ? JSON.stringify(value) : `"${value}"`;
  return JSON.stringify(value);
}
const str = jcsScalar;

/** JCS form of an array of strings. */
export function jcsStringArray(values: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i += 1) out += (i === 0 ? '' : ',') + str(values[i] as string);
  return out + ']';
}

/** JCS form of a list of agreement references (each reduced to `{id, version, payloadHash}`). */
export function jcsAgreements(values: readonly AuditAgreementRef[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i += 1) {
    const a = values[i] as AuditAgreementRef;
    out += `${i === 0 ? '' : ','}{"id":${str(a.id)},"payloadHash":${str(a.payloadHash)},"version":${str(a.version)}}`;
  }
  return out + ']';
}

/** JCS form of an event's `records`. */
export function jcsRecords(values: readonly AuditRecordEntry[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i += 1) {
    const r = values[i] as AuditRecordEntry;
    out +=
      `${i === 0 ? '' : ','}{"agreements":${jcsAgreements(r.agreements)},"fields":${jcsStringArray(r.fields)}` +
      `,"recordId":${str(r.recordId)},"recordType":${str(r.recordType)},"withheld":${jcsStringArray(r.withheld)}}`;
  }
  return out + ']';
}

/**
 * The hashed fields of one event, each already in its JCS form (a JSON text). An event of the
 * current shape has `records`; one of the earlier shape has `records` undefined and the four
 * `legacy*` texts instead.
 */
interface CanonicalParts {
  action: string;
  actorOrg: string;
  actorRoles: string;
  actorUser: string;
  at: string;
  caseRef: string;
  details: string;
  id: string;
  nhsNumber: string;
  operationName: string;
  outcome: string;
  ownerOrg: string;
  purpose: string;
  queryHash: string;
  requestId: string;
  sensitivity: string;
  seq: string;
  records: string | undefined;
  legacyAgreements: string;
  legacyFields: string;
  legacyRecordId: string;
  legacyRecordType: string;
}

/**
 * The canonical JSON of an event from the JCS forms of its values: the one place that knows the
 * key order. Keys are in JCS order (UTF-16 code units); the legacy record columns and `records`
 * fall at different places among the common keys.
 */
function canonicalJsonOfParts(p: CanonicalParts): string {
  const legacy = p.records === undefined;
  return (
    `{"action":${p.action}` +
    `,"actorOrg":${p.actorOrg}` +
    `,"actorRoles":${p.actorRoles}` +
    `,"actorUser":${p.actorUser}` +
    (legacy ? `,"agreements":${p.legacyAgreements}` : '') +
    `,"at":${p.at}` +
    `,"caseRef":${p.caseRef}` +
    `,"details":${p.details}` +
    (legacy ? `,"fields":${p.legacyFields}` : '') +
    `,"id":${p.id}` +
    `,"nhsNumber":${p.nhsNumber}` +
    `,"operationName":${p.operationName}` +
    `,"outcome":${p.outcome}` +
    `,"ownerOrg":${p.ownerOrg}` +
    `,"purpose":${p.purpose}` +
    `,"queryHash":${p.queryHash}` +
    (legacy ? `,"recordId":${p.legacyRecordId},"recordType":${p.legacyRecordType}` : `,"records":${p.records as string}`) +
    `,"requestId":${p.requestId}` +
    `,"sensitivity":${p.sensitivity}` +
    `,"seq":${p.seq}}`
  );
}

/**
 * The same bytes as {@link canonicalEventJson}, written field by field in JCS key order. The
 * verifier hashes hundreds of thousands of events a second and the generic serialiser costs
 * most of that budget; property tests pin this function to the reference one.
 */
export function fastCanonicalEventJson(e: HashedAuditEvent): string {
  return canonicalJsonWithAt(e, e.at.toISOString());
}

/**
 * {@link fastCanonicalEventJson} with `at` given as its RFC 3339 string, so the verifier can
 * hash rows straight from the database without building a Date for each.
 */
export function canonicalJsonWithAt(e: Omit<HashedAuditEvent, 'at'>, atIso: string): string {
  const legacy = e.legacy;
  return canonicalJsonOfParts({
    action: str(e.action),
    actorOrg: str(e.actorOrg),
    actorRoles: jcsStringArray(e.actorRoles),
    actorUser: str(e.actorUser),
    at: str(atIso),
    caseRef: str(e.caseRef),
    details: e.details === null ? 'null' : jcs(e.details as AuditJson),
    id: str(e.id),
    nhsNumber: str(e.nhsNumber),
    operationName: str(e.operationName),
    outcome: str(e.outcome),
    ownerOrg: str(e.ownerOrg),
    purpose: str(e.purpose),
    queryHash: str(e.queryHash),
    requestId: str(e.requestId),
    sensitivity: str(e.sensitivity),
    seq: str(e.seq),
    records: legacy === undefined ? jcsRecords(e.records) : undefined,
    legacyAgreements: legacy === undefined ? '' : jcsAgreements(legacy.agreements),
    legacyFields: legacy === undefined ? '' : jcsStringArray(legacy.fields),
    legacyRecordId: legacy === undefined ? '' : str(legacy.recordId),
    legacyRecordType: legacy === undefined ? '' : str(legacy.recordType),
  });
}

/** hex SHA-256(prevHash ‖ JCS(event)); see the module comment for the exact object. */
export function hashEvent(prevHash: string, event: HashedAuditEvent): string {
  return hashCanonical(prevHash, fastCanonicalEventJson(event));
}

/** hex SHA-256 of `prevHash` followed by the UTF-8 bytes of an event's canonical JSON. */
export function hashCanonical(prevHash: string, canonicalJson: string): string {
  return oneShotHash('sha256', prevHash + canonicalJson, 'hex');
}
