/**
 * The hash chain of CONTRACT §7: `hash = hex SHA-256(prevHash ‖ JCS(event))`.
 *
 * Precisely (so a partner or auditor can recompute it with any RFC 8785 library):
 *
 * - The hashed object is the stored event **without** `prevHash` and `hash`, with all 21 keys
 *   always present: `seq` (JSON number), `id` (lower-case UUID), `at` (RFC 3339 UTC with exactly
 *   three fractional digits, as `Date.prototype.toISOString` writes it, e.g.
 *   `2026-03-01T09:30:00.000Z`), `requestId`, `actorOrg`, `actorUser`, `actorRoles` (array),
 *   `purpose`, `caseRef`, `action`, `ownerOrg`, `recordType`, `recordId`, `nhsNumber`, `fields`
 *   (array), `agreements` (array of `{id, version, payloadHash}`), `outcome`, `operationName`,
 *   `queryHash`, `sensitivity`, `details` (object). A value that is absent is JSON `null`
 *   (arrays are `[]`), never omitted.
 * - That object is serialised with the JSON Canonicalization Scheme (RFC 8785): keys sorted by
 *   UTF-16 code units, no whitespace, ECMAScript number and string forms. The bytes are UTF-8.
 * - The input to SHA-256 is the 64 ASCII hex characters of `prevHash` followed immediately by
 *   those JCS bytes. The result is written as 64 lower-case hex characters.
 * - The first event (seq 1) has `prevHash` = {@link GENESIS_HASH} (64 zeros).
 */
import { hash as oneShotHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { AuditEventBody, AuditJson } from './audit-event.js';

// The package is CommonJS (`module.exports = fn`) with an ES-style `export default` in its
// typings, which NodeNext resolution reads as `{ default: fn }`; at run time it is the function.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** `prevHash` of the first event: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The event fields that enter the hash: the stored event minus `prevHash` and `hash`. */
export type HashedAuditEvent = AuditEventBody & { readonly seq: number };

/** The JSON object that is canonicalised for an event, exactly as described above. */
export function hashedObjectOf(event: HashedAuditEvent): Record<string, unknown> {
  return {
    seq: event.seq,
    id: event.id,
    at: event.at.toISOString(),
    requestId: event.requestId,
    actorOrg: event.actorOrg,
    actorUser: event.actorUser,
    actorRoles: event.actorRoles,
    purpose: event.purpose,
    caseRef: event.caseRef,
    action: event.action,
    ownerOrg: event.ownerOrg,
    recordType: event.recordType,
    recordId: event.recordId,
    nhsNumber: event.nhsNumber,
    fields: event.fields,
    agreements: event.agreements.map((a) => ({ id: a.id, version: a.version, payloadHash: a.payloadHash })),
    outcome: event.outcome,
    operationName: event.operationName,
    queryHash: event.queryHash,
    sensitivity: event.sensitivity,
    details: event.details,
  };
}

/** RFC 8785 form of the hashed object, by the reference `canonicalize` package. */
export function canonicalEventJson(event: HashedAuditEvent): string {
  const json = canonicalize(hashedObjectOf(event));
  if (json === undefined) throw new TypeError('audit event cannot be canonicalised');
  return json;
}

// JSON.stringify writes strings and finite numbers exactly as RFC 8785 §3.2.2 requires
// (ECMAScript serialisation), so a key or scalar needs nothing more.
// Most values need no escaping, and wrapping them in quotes directly is twice as fast as
// JSON.stringify; anything with a quote, backslash or control character takes the full path.
// eslint-disable-next-line no-control-regex
const needsEscape = /["\\\u0000-\u001f]/;
function str(value: string | number | null): string {
  if (typeof value === 'string') return needsEscape.test(value) ? JSON.stringify(value) : `"${value}"`;
  return JSON.stringify(value);
}

function stringArray(values: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < values.length; i += 1) out += (i === 0 ? '' : ',') + str(values[i] as string);
  return out + ']';
}

function agreementArray(values: HashedAuditEvent['agreements']): string {
  let out = '[';
  for (let i = 0; i < values.length; i += 1) {
    const a = values[i] as HashedAuditEvent['agreements'][number];
    out += `${i === 0 ? '' : ','}{"id":${str(a.id)},"payloadHash":${str(a.payloadHash)},"version":${str(a.version)}}`;
  }
  return out + ']';
}

/**
 * The same bytes as {@link canonicalEventJson}, written field by field in JCS key order. The
 * verifier hashes hundreds of thousands of events a second and the generic serialiser costs
 * most of that budget; a property test pins this function to the reference one.
 */
export function fastCanonicalEventJson(e: HashedAuditEvent): string {
  return canonicalJsonWithAt(e, e.at.toISOString());
}

/**
 * {@link fastCanonicalEventJson} with `at` given as its RFC 3339 string, so the verifier can
 * hash rows straight from the database without building a Date for each.
 */
export function canonicalJsonWithAt(e: Omit<HashedAuditEvent, 'at'>, atIso: string): string {
  return (
    `{"action":${str(e.action)}` +
    `,"actorOrg":${str(e.actorOrg)}` +
    `,"actorRoles":${stringArray(e.actorRoles)}` +
    `,"actorUser":${str(e.actorUser)}` +
    `,"agreements":${agreementArray(e.agreements)}` +
    `,"at":${str(atIso)}` +
    `,"caseRef":${str(e.caseRef)}` +
    `,"details":${e.details === null ? 'null' : (canonicalize(e.details as AuditJson) as string)}` +
    `,"fields":${stringArray(e.fields)}` +
    `,"id":${str(e.id)}` +
    `,"nhsNumber":${str(e.nhsNumber)}` +
    `,"operationName":${str(e.operationName)}` +
    `,"outcome":${str(e.outcome)}` +
    `,"ownerOrg":${str(e.ownerOrg)}` +
    `,"purpose":${str(e.purpose)}` +
    `,"queryHash":${str(e.queryHash)}` +
    `,"recordId":${str(e.recordId)}` +
    `,"recordType":${str(e.recordType)}` +
    `,"requestId":${str(e.requestId)}` +
    `,"sensitivity":${str(e.sensitivity)}` +
    `,"seq":${str(e.seq)}}`
  );
}

/** hex SHA-256(prevHash ‖ JCS(event)); see the module comment for the exact object. */
export function hashEvent(prevHash: string, event: HashedAuditEvent): string {
  return hashCanonical(prevHash, fastCanonicalEventJson(event));
}

/** hex SHA-256 of `prevHash` followed by the UTF-8 bytes of an event's canonical JSON. */
export function hashCanonical(prevHash: string, canonicalJson: string): string {
  return oneShotHash('sha256', prevHash + canonicalJson, 'hex');
}
