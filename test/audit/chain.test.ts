import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalEventJson,
  fastCanonicalEventJson,
  GENESIS_HASH,
  hashedObjectOf,
  hashEvent,
  toAuditEventBody,
  type AuditAgreementRef,
  type AuditEventInput,
  type AuditJson,
  type AuditRecordEntry,
  type HashedAuditEvent,
  type LegacyRecordColumns,
} from '../../src/audit/index.js';
import { canonicalJsonWithAt } from '../../src/audit/chain.js';
import { jsonbCanonicalisers } from '../../src/audit/verify-chain.js';

// The RFC 8785 reference implementation (CommonJS; see src/audit/chain.ts).
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;

const now = new Date('2026-03-01T09:30:00.000Z');
const payloadHash = 'ab'.repeat(32);

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
  nhsNumber: '9434765919',
  records: [
    { recordType: 'Demographics', recordId: 'rec-1', fields: ['familyName', 'givenName'], withheld: ['dateOfBirth'], agreements: [{ id: 'triborough-mash-children', version: 2, payloadHash }] },
  ],
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
  '"at":"2026-03-01T09:30:00.250Z","caseRef":"WCC-42","details":{"n":1.5,"note":"é \\"quoted\\""},' +
  '"id":"6f1c1a9e-2b0c-4a53-9b1e-1d7a6f1c1a9e","nhsNumber":"9434765919",' +
  '"operationName":"Subject","outcome":"SUCCESS","ownerOrg":"kensington-chelsea","purpose":"safeguarding-children",' +
  '"queryHash":"' + 'cd'.repeat(32) + '","records":[{"agreements":[{"id":"triborough-mash-children","payloadHash":"' + payloadHash +
  '","version":2}],"fields":["familyName","givenName"],"recordId":"rec-1","recordType":"Demographics","withheld":["dateOfBirth"]}],' +
  '"requestId":"req-1","sensitivity":"personal","seq":1}';

/**
 * An event as the previous release wrote it: one record in the record columns, withheld fields
 * in details. Its canonical text and hash are those that release pinned in this file.
 */
const legacyColumns: LegacyRecordColumns = {
  recordType: 'Demographics',
  recordId: 'rec-1',
  fields: ['givenName', 'familyName'],
  agreements: [{ id: 'triborough-mash-children', version: 2, payloadHash }],
};
const expectedLegacyJcs =
  '{"action":"READ","actorOrg":"westminster","actorRoles":["social-worker"],"actorUser":"jane.smith",' +
  '"agreements":[{"id":"triborough-mash-children","payloadHash":"' + payloadHash + '","version":2}],' +
  '"at":"2026-03-01T09:30:00.250Z","caseRef":"WCC-42","details":{"n":1.5,"note":"é \\"quoted\\""},' +
  '"fields":["givenName","familyName"],"id":"6f1c1a9e-2b0c-4a53-9b1e-1d7a6f1c1a9e","nhsNumber":"9434765919",' +
  '"operationName":"Subject","outcome":"SUCCESS","ownerOrg":"kensington-chelsea","purpose":"safeguarding-children",' +
  '"queryHash":"' + 'cd'.repeat(32) + '","recordId":"rec-1","recordType":"Demographics","requestId":"req-1",' +
  '"sensitivity":"personal","seq":1}';

const sha256 = (text: string) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

describe('the audit hash chain', () => {
  const event: HashedAuditEvent = { ...toAuditEventBody(input, now), seq: 1 };
  const legacyEvent: HashedAuditEvent = { ...event, records: [], legacy: legacyColumns };

  it('canonicalises exactly the documented object, 18 keys (known answer)', () => {
    expect(canonicalEventJson(event)).toBe(expectedJcs);
    expect(fastCanonicalEventJson(event)).toBe(expectedJcs);
    expect(Object.keys(hashedObjectOf(event))).toHaveLength(18);
  });

  it('hashes prevHash followed by the JCS bytes (known answer)', () => {
    const independent = sha256(GENESIS_HASH + expectedJcs);
    expect(hashEvent(GENESIS_HASH, event)).toBe(independent);
    // Pinned: a change to the hashing rules breaks every partner's copy of the chain.
    expect(independent).toBe('f1934b86c6a70eebb987f46d4b75345348c37557b46f5b95882321f512b3e52a');
  });

  it('hashes an event of the previous release exactly as that release did (21 keys, its pinned hash)', () => {
    expect(canonicalEventJson(legacyEvent)).toBe(expectedLegacyJcs);
    expect(fastCanonicalEventJson(legacyEvent)).toBe(expectedLegacyJcs);
    expect(Object.keys(hashedObjectOf(legacyEvent))).toHaveLength(21);
    // The hash the previous release pinned for this event.
    expect(hashEvent(GENESIS_HASH, legacyEvent)).toBe('d857990818bb0c3f596d4ac80b0f387235593527721362aff281e0058118c2f2');
    expect(sha256(GENESIS_HASH + expectedLegacyJcs)).toBe('d857990818bb0c3f596d4ac80b0f387235593527721362aff281e0058118c2f2');
  });

  it('writes absent values as null and empty lists as [], in both shapes', () => {
    const bare = { ...toAuditEventBody({ id: input.id, at: now, requestId: 'r', action: 'ADMIN', outcome: 'SUCCESS' }, now), seq: 7 };
    const common = {
      action: 'ADMIN', actorOrg: null, actorRoles: [], actorUser: null, at: '2026-03-01T09:30:00.000Z', caseRef: null, details: null,
      id: '6f1c1a9e-2b0c-4a53-9b1e-1d7a6f1c1a9e', nhsNumber: null, operationName: null, outcome: 'SUCCESS', ownerOrg: null, purpose: null,
      queryHash: null, requestId: 'r', sensitivity: null, seq: 7,
    };
    expect(JSON.parse(canonicalEventJson(bare))).toEqual({ ...common, records: [] });
    const deny = { ...bare, records: [{ recordType: 'Demographics', recordId: null, fields: [], withheld: [], agreements: [] }] };
    expect(JSON.parse(fastCanonicalEventJson(deny))).toEqual({ ...common, records: [{ agreements: [], fields: [], recordId: null, recordType: 'Demographics', withheld: [] }] });
    const legacyBare = { ...bare, legacy: { recordType: null, recordId: null, fields: [], agreements: [] } };
    expect(JSON.parse(fastCanonicalEventJson(legacyBare))).toEqual({ ...common, agreements: [], fields: [], recordId: null, recordType: null });
  });

  it('changes when any field, any record, the seq or the previous hash changes', () => {
    const base = hashEvent(GENESIS_HASH, event);
    const record = event.records[0] as AuditRecordEntry;
    const withRecord = (change: Partial<AuditRecordEntry>) => ({ ...event, records: [{ ...record, ...change }] });
    const variants: HashedAuditEvent[] = [
      { ...event, seq: 2 },
      { ...event, at: new Date(event.at.getTime() + 1) },
      { ...event, purpose: 'marketing' },
      { ...event, details: null },
      { ...event, records: [] },
      { ...event, records: [record, record] },
      withRecord({ fields: ['givenName'] }),
      withRecord({ withheld: [] }),
      withRecord({ recordId: 'rec-2' }),
      withRecord({ recordId: null }),
      withRecord({ agreements: [{ id: 'triborough-mash-children', version: 3, payloadHash }] }),
      // The same record columns in the earlier shape hash differently: the shapes cannot be confused.
      { ...event, legacy: { recordType: 'Demographics', recordId: 'rec-1', fields: ['familyName', 'givenName'], agreements: record.agreements } },
    ];
    expect(hashEvent('1'.repeat(64), event)).not.toBe(base);
    const hashes = variants.map((v) => hashEvent(GENESIS_HASH, v));
    expect(new Set([base, ...hashes]).size).toBe(variants.length + 1);
  });

  it('orders keys by UTF-16 code units, not code points (a non-BMP key sorts before U+FFFD)', () => {
    const details = { '\uFFFD': 1, '\u{1F600}': 2, a: 3, B: 4, '\u00e9': 5 };
    const json = fastCanonicalEventJson({ ...event, details });
    expect(json).toContain('"details":{"B":4,"a":3,"é":5,"\u{1F600}":2,"\uFFFD":1}');
    expect(json).toBe(canonicalEventJson({ ...event, details }));
  });

  it('escapes a lone surrogate as canonicalize does, wherever it is', () => {
    for (const text of ['\uD800', 'a\uDC00', '\uDBFFb', 'x\uD83Dy', '\uDE00\uD83D', '\u{1F600}\uD800', '\u2028\u2029\u007f']) {
      const e: HashedAuditEvent = { ...event, actorUser: text, records: [{ ...(event.records[0] as AuditRecordEntry), fields: [text], recordId: text }] };
      expect(fastCanonicalEventJson(e)).toBe(canonicalEventJson(e));
      expect(canonicalJsonWithAt(e, e.at.toISOString())).toBe(canonicalize(hashedObjectOf(e)));
    }
    expect(fastCanonicalEventJson({ ...event, actorUser: '\uD800' })).toContain('"actorUser":"\\ud800"');
  });

  it('generates an id and takes the clock time when absent', () => {
    const body = toAuditEventBody({ requestId: 'r', action: 'ADMIN', outcome: 'SUCCESS' }, now);
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.at.toISOString()).toBe(now.toISOString());
    expect(body.records).toEqual([]);
  });

  const record = input.records?.[0] as AuditRecordEntry;
  it.each<[string, Partial<AuditEventInput>, RegExp]>([
    ['unknown action', { action: 'PEEK' as never }, /unknown audit action/],
    ['unknown outcome', { outcome: 'MAYBE' as never }, /unknown audit outcome/],
    ['id not a UUID', { id: 'not-a-uuid' }, /id must be a UUID/],
    ['invalid date', { at: new Date(Number.NaN) }, /valid Date/],
    ['NUL in a text', { actorUser: 'a\u0000b' }, /NUL or an unpaired surrogate/],
    ['lone surrogate in a released field', { records: [{ ...record, fields: ['x\uD800'] }] }, /records\[0\]\.fields\[0\] contains a NUL or an unpaired surrogate/],
    ['lone surrogate in a withheld field', { records: [{ ...record, withheld: ['\uDC00x'] }] }, /records\[0\]\.withheld\[0\] contains a NUL or an unpaired surrogate/],
    ['missing requestId', { requestId: undefined as never }, /requestId is required/],
    ['missing record type', { records: [{ ...record, recordType: undefined as never }] }, /records\[0\]\.recordType is required/],
    ['records not an array', { records: 'rec-1' as never }, /records must be an array/],
    ['non-integer agreement version', { records: [{ ...record, agreements: [{ id: 'a', version: 1.5, payloadHash: 'h' }] }] }, /version must be an integer/],
    ['unsafe integer in details', { details: { big: 2 ** 60 } }, /unsafe integer/],
    ['non-finite number in details', { details: { x: Number.POSITIVE_INFINITY } }, /finite number/],
    ['a Date in details', { details: { when: new Date() as never } }, /plain JSON/],
  ])('refuses an event with %s (TypeError, before it joins a batch)', (_name, change, message) => {
    expect(() => toAuditEventBody({ ...input, ...change } as AuditEventInput, now)).toThrow(TypeError);
    expect(() => toAuditEventBody({ ...input, ...change } as AuditEventInput, now)).toThrow(message);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests: the fast serialiser (the writer's, and the verifier's skeleton) against the
// RFC 8785 reference, for random events of both shapes.
// ---------------------------------------------------------------------------------------------

/** Characters that stress a JSON serialiser, and lone surrogates (possible in JS strings). */
const nastyChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'Z', '0', ' ', '-', '_', '.', ':', ',', '{', '}', '[', ']') },
  { weight: 2, arbitrary: fc.constantFrom('"', '\\', '/', "'") },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\u007f', '\u0080', '\u009f', '\u00e9', '\u2028', '\u2029', '\uFEFF', '\uFFFD', '\uFFFF', '€') },
  { weight: 2, arbitrary: fc.constantFrom('\u{1F600}', '\u{10000}', '\u{10FFFF}', '\u{1D11E}') },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdbff }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0xdc00, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x20, max: 0xffff }).map((c) => String.fromCharCode(c)) },
);

/** Strings of those characters; lone surrogates land at the start, middle and end. */
const nastyString = fc.oneof(fc.string({ unit: nastyChar, maxLength: 12 }), fc.string({ maxLength: 8 }), fc.constant(''));

/** Only what PostgreSQL can store (no NUL, no lone surrogate): the verifier's inputs. */
// eslint-disable-next-line no-control-regex
const storable = (s: string) => !/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

const jsonNumber = fc.oneof(
  fc.integer(),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1, -1, 0.1, 1.5, -2.75, 1e21, 1e-7, 1e-6, 1e20, 123e-20, 5e-324, 1.7976931348623157e308, 2 ** 53 - 1, 0.30000000000000004),
);

function jsonValue(text: fc.Arbitrary<string>): fc.Arbitrary<AuditJson> {
  return fc.letrec<{ value: AuditJson }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      jsonNumber,
      text,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(text, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
}

function eventArbitrary(text: fc.Arbitrary<string>): fc.Arbitrary<HashedAuditEvent> {
  const nullable = fc.option(text, { nil: null });
  const agreement: fc.Arbitrary<AuditAgreementRef> = fc.record({ id: text, version: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), payloadHash: text });
  const recordEntry: fc.Arbitrary<AuditRecordEntry> = fc.record({
    recordType: text,
    recordId: nullable,
    fields: fc.array(text, { maxLength: 6 }),
    withheld: fc.array(text, { maxLength: 4 }),
    agreements: fc.array(agreement, { maxLength: 3 }),
  });
  const legacy: fc.Arbitrary<LegacyRecordColumns> = fc.record({
    recordType: nullable,
    recordId: nullable,
    fields: fc.array(text, { maxLength: 6 }),
    agreements: fc.array(agreement, { maxLength: 3 }),
  });
  // Keys that sort differently by code unit and by code point, and keys that collide in
  // length, are the interesting ones for key order.
  const key = fc.oneof(text, fc.constantFrom('\u{1F600}', '\uFFFD', '\uD800', 'a', 'aa', 'B', 'é', '', 'records', '__proto__'));
  return fc.record({
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    id: fc.uuid(),
    at: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
    requestId: text,
    actorOrg: nullable,
    actorUser: nullable,
    actorRoles: fc.array(text, { maxLength: 4 }),
    purpose: nullable,
    caseRef: nullable,
    action: fc.constantFrom('READ', 'BREAK_GLASS', 'DENY', 'PUBLISH', 'RETRACT', 'AGREEMENT_SUBMIT', 'AGREEMENT_REVOKE', 'ADMIN' as const),
    ownerOrg: nullable,
    nhsNumber: nullable,
    records: fc.oneof(fc.constant([]), fc.array(recordEntry, { minLength: 1, maxLength: 2 }), fc.array(recordEntry, { minLength: 8, maxLength: 40 })),
    outcome: fc.constantFrom('SUCCESS', 'DENIED', 'FAILURE' as const),
    operationName: nullable,
    queryHash: nullable,
    sensitivity: nullable,
    details: fc.option(fc.dictionary(key, jsonValue(text), { maxKeys: 6 }), { nil: null }),
    legacy: fc.option(legacy, { nil: undefined }),
  }) as fc.Arbitrary<HashedAuditEvent>;
}

describe('the fast canonical JSON (property tests against the RFC 8785 reference)', () => {
  it('is byte-identical to canonicalize(hashedObjectOf(e)) for random events of both shapes', () => {
    fc.assert(
      fc.property(eventArbitrary(nastyString), (e) => {
        const reference = canonicalize(hashedObjectOf(e));
        expect(fastCanonicalEventJson(e)).toBe(reference);
        expect(canonicalJsonWithAt(e, e.at.toISOString())).toBe(reference);
        expect(canonicalEventJson(e)).toBe(reference);
        expect(hashEvent(GENESIS_HASH, e)).toBe(sha256(GENESIS_HASH + reference));
      }),
      { numRuns: 1000 },
    );
  });

  it('hashes the key order and shape of each event: 21 keys for the earlier shape, 18 for the current', () => {
    fc.assert(
      fc.property(eventArbitrary(fc.string({ maxLength: 4 })), (e) => {
        const keys = Object.keys(JSON.parse(fastCanonicalEventJson(e)) as object);
        expect(keys).toEqual([...keys].sort());
        expect(keys).toHaveLength(e.legacy === undefined ? 18 : 21);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The verifier reads jsonb columns as PostgreSQL writes them and canonicalises that text
// (src/audit/verify-chain.ts). `jsonbText` writes a value as jsonb's output function does: keys
// ordered by length in bytes then bytewise, ", " and ": " separators, strings escaped as
// JSON.stringify does, numbers in plain decimal notation (numeric's output).
// ---------------------------------------------------------------------------------------------

/** The plain decimal form numeric writes for the number JSON.stringify wrote as `n`. */
function plainDecimal(n: number): string {
  const text = JSON.stringify(n);
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (match === null) throw new Error(`unexpected number ${text}`);
  const [, sign, whole, fraction = '', exponentText = '0'] = match;
  const digits = (whole as string) + fraction;
  const point = (whole as string).length + Number(exponentText);
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  out = out.replace(/^0+(?=\d)/, '');
  return `${sign as string}${out}`;
}

function jsonbText(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return plainDecimal(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText(object[k])}`).join(', ')}}`;
}

describe("the verifier's reading of jsonb text (property tests against the reference)", () => {
  const text = nastyString.filter(storable);
  const e = eventArbitrary(text);
  const { stringArray, agreements, details, records, memo } = jsonbCanonicalisers;

  it('writes jsonb text as PostgreSQL does (numbers in plain notation)', () => {
    expect(plainDecimal(1e21)).toBe('1000000000000000000000');
    expect(plainDecimal(1e-7)).toBe('0.0000001');
    expect(plainDecimal(-1.5e-7)).toBe('-0.00000015');
    expect(plainDecimal(-0)).toBe('0');
    expect(plainDecimal(123.456)).toBe('123.456');
    expect(jsonbText({ bb: [1, 'x'], a: { c: null } })).toBe('{"a": {"c": null}, "bb": [1, "x"]}');
  });

  it('canonicalises every jsonb column of random events exactly as the reference does', () => {
    const shared = memo();
    fc.assert(
      fc.property(e, fc.array(fc.option(text, { nil: null }), { maxLength: 40 }), (event, otherIds) => {
        const reference = hashedObjectOf(event);
        expect(stringArray(jsonbText(event.actorRoles), shared)).toBe(canonicalize(event.actorRoles));
        expect(details(jsonbText(event.details), shared)).toBe(canonicalize(event.details));
        if (event.legacy === undefined) {
          expect(records(jsonbText(event.records), shared)).toBe(canonicalize(reference.records));
          // The same records with other ids: a remembered template must give the same as the reference.
          const again = event.records.map((r, i) => ({ ...r, recordId: otherIds[i] === undefined ? r.recordId : otherIds[i] }));
          expect(records(jsonbText(again), shared)).toBe(canonicalize(hashedObjectOf({ ...event, records: again }).records));
          expect(records(jsonbText(event.records), memo())).toBe(canonicalize(reference.records));
        } else {
          expect(stringArray(jsonbText(event.legacy.fields), shared)).toBe(canonicalize(reference.fields));
          expect(agreements(jsonbText(event.legacy.agreements), shared)).toBe(canonicalize(reference.agreements));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('takes extra keys in stored records and agreements as the reference does (ignored), and no other types', () => {
    const m = memo();
    const stored = [{ recordType: 'T', recordId: 'r1', fields: ['a', 'b'], withheld: [], agreements: [{ id: 'x', version: 1, payloadHash: 'h', recordId: 'r9' }], recordId2: 'z' }];
    const reference = canonicalize([{ agreements: [{ id: 'x', payloadHash: 'h', version: 1 }], fields: ['a', 'b'], recordId: 'r1', recordType: 'T', withheld: [] }]);
    expect(records(jsonbText(stored), m)).toBe(reference);
    expect(records(jsonbText(stored), m)).toBe(reference);
    expect(records(jsonbText([{ ...stored[0], recordType: 7 }]), m)).toBeUndefined();
    expect(records(jsonbText([{ ...stored[0], fields: 'a' }]), m)).toBeUndefined();
    expect(records(jsonbText({ recordType: 'T' }), m)).toBeUndefined();
    expect(stringArray(jsonbText(['a', 1]), m)).toBeUndefined();
    expect(agreements(jsonbText([{ id: 'x', version: '1', payloadHash: 'h' }]), m)).toBeUndefined();
    // A number beyond double range (jsonb's numeric holds it; JSON cannot be hashed from it).
    expect(details(`{"n": 1${'0'.repeat(400)}}`, m)).toBeUndefined();
    // Strings that look like jsonb's separators do not fool the single-string shortcut.
    for (const tricky of [[', '], ['", "'], ['a', ', ', 'b'], ['\\"], ["'], ['"]']]) {
      expect(stringArray(jsonbText(tricky), m)).toBe(canonicalize(tricky));
      expect(records(jsonbText([{ ...stored[0], fields: tricky, recordId: tricky[0] }]), m)).toBe(
        canonicalize([{ agreements: [{ id: 'x', payloadHash: 'h', version: 1 }], fields: tricky, recordId: tricky[0], recordType: 'T', withheld: [] }]),
      );
    }
  });
});
