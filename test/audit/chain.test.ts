import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalEventJson,
  fastCanonicalEventJson,
  GENESIS_HASH,
  hashEvent,
  toAuditEventBody,
  type AuditEventInput,
  type HashedAuditEvent,
} from '../../src/audit/index.js';

const now = new Date('2026-03-01T09:30:00.000Z');

const input: AuditEventInput = {
  id: '6F1C1A9E-2B0C-4A53-9B1E-1D7A6F1C1A9E',
  at: new Date('2026-03-01T09:30:00.250Z'),
  requestId: 'req-1',
  actorOrg: 'westminster',
  actorUser: 'jane.smith',
  actorRoles: ['social-worker'],
  purpose: 'safeguarding-children',
  caseRef: 'WCC-42',
  action: 'READ',
  ownerOrg: 'kensington-chelsea',
  recordType: 'Demographics',
  recordId: 'rec-1',
  nhsNumber: '9434765919',
  fields: ['givenName', 'familyName'],
  agreements: [{ id: 'triborough-mash-children', version: 2, payloadHash: 'ab'.repeat(32) }],
  outcome: 'SUCCESS',
  operationName: 'Subject',
  queryHash: 'cd'.repeat(32),
  sensitivity: 'personal',
  details: { note: 'é "quoted"', n: 1.5 },
};

// The canonical text written out by hand from the rules in src/audit/chain.ts: every key,
// sorted by code unit, no whitespace, `at` with milliseconds, `id` lower-case, seq a number.
const expectedJcs =
  '{"action":"READ","actorOrg":"westminster","actorRoles":["social-worker"],"actorUser":"jane.smith",' +
  '"agreements":[{"id":"triborough-mash-children","payloadHash":"' + 'ab'.repeat(32) + '","version":2}],' +
  '"at":"2026-03-01T09:30:00.250Z","caseRef":"WCC-42","details":{"n":1.5,"note":"é \\"quoted\\""},' +
  '"fields":["givenName","familyName"],"id":"6f1c1a9e-2b0c-4a53-9b1e-1d7a6f1c1a9e","nhsNumber":"9434765919",' +
  '"operationName":"Subject","outcome":"SUCCESS","ownerOrg":"kensington-chelsea","purpose":"safeguarding-children",' +
  '"queryHash":"' + 'cd'.repeat(32) + '","recordId":"rec-1","recordType":"Demographics","requestId":"req-1",' +
  '"sensitivity":"personal","seq":1}';

describe('the audit hash chain', () => {
  const event: HashedAuditEvent = { ...toAuditEventBody(input, now), seq: 1 };

  it('canonicalises exactly the documented object (known answer)', () => {
    expect(canonicalEventJson(event)).toBe(expectedJcs);
    expect(fastCanonicalEventJson(event)).toBe(expectedJcs);
  });

  it('hashes prevHash followed by the JCS bytes (known answer)', () => {
    const independent = createHash('sha256').update(Buffer.from(GENESIS_HASH + expectedJcs, 'utf8')).digest('hex');
    expect(hashEvent(GENESIS_HASH, event)).toBe(independent);
    // Pinned: a change to the hashing rules breaks every partner's copy of the chain.
    expect(independent).toBe('d857990818bb0c3f596d4ac80b0f387235593527721362aff281e0058118c2f2');
  });

  it('writes absent values as null and empty lists as []', () => {
    const bare = { ...toAuditEventBody({ id: input.id, at: now, requestId: 'r', action: 'DENY', outcome: 'DENIED' }, now), seq: 7 };
    expect(JSON.parse(canonicalEventJson(bare))).toEqual({
      action: 'DENY', actorOrg: null, actorRoles: [], actorUser: null, agreements: [], at: '2026-03-01T09:30:00.000Z',
      caseRef: null, details: null, fields: [], id: '6f1c1a9e-2b0c-4a53-9b1e-1d7a6f1c1a9e', nhsNumber: null,
      operationName: null, outcome: 'DENIED', ownerOrg: null, purpose: null, queryHash: null, recordId: null,
      recordType: null, requestId: 'r', sensitivity: null, seq: 7,
    });
  });

  it('changes when any field, the seq or the previous hash changes', () => {
    const base = hashEvent(GENESIS_HASH, event);
    expect(hashEvent('1'.repeat(64), event)).not.toBe(base);
    expect(hashEvent(GENESIS_HASH, { ...event, seq: 2 })).not.toBe(base);
    expect(hashEvent(GENESIS_HASH, { ...event, fields: ['givenName'] })).not.toBe(base);
    expect(hashEvent(GENESIS_HASH, { ...event, at: new Date(event.at.getTime() + 1) })).not.toBe(base);
  });

  it('fast serialiser equals the reference RFC 8785 canonicalize package on arbitrary events', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('a"b', 'back\\slash', 'tab\t', '\u0001', '\u007f', '€', '😀'));
    const nullable = fc.option(text, { nil: null });
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), text,
        fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(text, tie('value'), { maxKeys: 3 })),
    })).value;
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          at: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
          requestId: text, actorOrg: nullable, actorUser: nullable, actorRoles: fc.array(text), purpose: nullable,
          caseRef: nullable, ownerOrg: nullable, recordType: nullable, recordId: nullable, nhsNumber: nullable,
          fields: fc.array(text), operationName: nullable, queryHash: nullable, sensitivity: nullable,
          agreements: fc.array(fc.record({ id: text, version: fc.integer(), payloadHash: text })),
          details: fc.option(fc.dictionary(text, json, { maxKeys: 4 }), { nil: null }),
          action: fc.constantFrom('READ', 'DENY', 'ADMIN' as const),
          outcome: fc.constantFrom('SUCCESS', 'DENIED', 'FAILURE' as const),
        }),
        (e) => {
          const event = { ...e, id: '6f1c1a9e-2b0c-4a53-9b1e-1d7a6f1c1a9e' } as HashedAuditEvent;
          expect(fastCanonicalEventJson(event)).toBe(canonicalEventJson(event));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('generates an id and takes the clock time when absent', () => {
    const body = toAuditEventBody({ requestId: 'r', action: 'ADMIN', outcome: 'SUCCESS' }, now);
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.at.toISOString()).toBe(now.toISOString());
  });

  it.each<[string, Partial<AuditEventInput>, RegExp]>([
    ['unknown action', { action: 'PEEK' as never }, /unknown audit action/],
    ['unknown outcome', { outcome: 'MAYBE' as never }, /unknown audit outcome/],
    ['id not a UUID', { id: 'not-a-uuid' }, /id must be a UUID/],
    ['invalid date', { at: new Date(Number.NaN) }, /valid Date/],
    ['NUL in a text', { actorUser: 'a\u0000b' }, /NUL or an unpaired surrogate/],
    ['lone surrogate', { fields: ['x\uD800'] }, /fields\[0\] contains a NUL or an unpaired surrogate/],
    ['missing requestId', { requestId: undefined as never }, /requestId is required/],
    ['non-integer agreement version', { agreements: [{ id: 'a', version: 1.5, payloadHash: 'h' }] }, /version must be an integer/],
    ['unsafe integer in details', { details: { big: 2 ** 60 } }, /unsafe integer/],
    ['non-finite number in details', { details: { x: Number.POSITIVE_INFINITY } }, /finite number/],
    ['a Date in details', { details: { when: new Date() as never } }, /plain JSON/],
  ])('refuses an event with %s (TypeError, before it joins a batch)', (_name, change, message) => {
    expect(() => toAuditEventBody({ ...input, ...change } as AuditEventInput, now)).toThrow(TypeError);
    expect(() => toAuditEventBody({ ...input, ...change } as AuditEventInput, now)).toThrow(message);
  });
});
