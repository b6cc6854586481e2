/**
 * Hostile and careless inputs to publishRecords: SQL metacharacters and odd Unicode in every
 * string field of every record type are stored and returned exactly (they are data, never SQL);
 * values the hub cannot store faithfully, invalid NHS numbers and dates, and over-large batches
 * are refused as a whole, every problem located, nothing written.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/index.js';
import { recordTypeList } from '../../src/records/catalogue.js';
import { makeOrg, type TestOrg } from '../helpers/keys.js';
import { validNhsNumbers } from '../helpers/nhs-numbers.js';
import { startTestHub, type TestHub } from '../helpers/test-hub.js';
import { codesOf, newCanary, publishMutation } from './fixtures.js';

const subjects = validNhsNumbers(100, 620_000_000);
const [spare = ''] = validNhsNumbers(1, 630_000_000);
const wrongCheckDigit = `${spare.slice(0, 9)}${(Number(spare[9]) + 1) % 10}`;
let nextSubject = 0;
const freshSubject = () => subjects[nextSubject++] as string;

/** Cut to `max` code points (never splitting a surrogate pair that was whole). */
const fit = (value: string, max: number) => [...value].slice(0, max).join('');

const stringFields = recordTypeList.map((type) => ({
  type,
  fields: type.fields.flatMap((field) => (field.kind.type === 'string' ? [{ name: field.name, maxLength: field.kind.maxLength }] : [])),
}));

/** One record of each type about `nhsNumber`, with `value` (cut to fit) in every string field. */
function everyStringField(nhsNumber: string, value: string, tag: string): Record<string, Record<string, unknown>[]> {
  return Object.fromEntries(
    stringFields.map(({ type, fields }) => [type.listName, [{ externalId: `${tag}-${type.listName}`, nhsNumber, ...Object.fromEntries(fields.map((f) => [f.name, fit(value, f.maxLength)])) }]]),
  );
}

/** Every string field of every type, read back. */
const readBack = `query Read($n: NHSNumber!) { subject(nhsNumber: $n) { ${stringFields.map(({ type, fields }) => `${type.listName} { externalId ${fields.map((f) => f.name).join(' ')} }`).join(' ')} } }`;
const emptySubject = Object.fromEntries(stringFields.map(({ type }) => [type.listName, []]));

describe('security corpus: inputs', () => {
  let hub: TestHub;
  let owner: TestOrg;
  let other: TestOrg;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' } });
    owner = await makeOrg(hub.database.db, 'kensington-chelsea');
    other = await makeOrg(hub.database.db, 'westminster');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const recordCount = async () => {
    const counts = await Promise.all(stringFields.map(async ({ type }) => rowsOf<{ n: number }>(await hub.database.db.execute(sql`select count(*)::int as n from ${type.table}`))[0]?.n ?? 0));
    return counts.reduce((a, b) => a + b, 0);
  };

  const canary = newCanary();
  const oddStrings: [string, string][] = [
    ['a quote that ends the SQL string', `${canary}'; DROP TABLE demographics; --`],
    ['a tautology', `${canary}' OR '1'='1`],
    ['a stacked query with pg_sleep', `${canary}'); SELECT pg_sleep(5); --`],
    ['dollar quoting, casts and escapes', `${canary}$$ $1 E'\\x27' ::text \\\\ \\'`],
    ['LIKE wildcards', `${canary}%_%\\%`],
    ['a GraphQL fragment', `${canary}") { __schema { types { name } } } #`],
    ['an HTML script', `${canary}<script>alert(1)</script>`],
    ['a NoSQL operator in JSON', `${canary}{"$gt": ""}`],
    ['an RTL override', `${canary}\u202Etxt.exe\u202C`],
    ['zero-width characters', `${canary}a\u200Bb\u200C\u200D\uFEFF`],
    ['line and paragraph separators', `${canary}a\u2028b\u2029c`],
    ['emoji (ZWJ sequences and flags)', `${canary}👩‍👩‍👧‍👦🏳️‍🌈🇬🇧`],
    ['combining marks', `${canary}Z̴̡͔a̸l̷g̶o̵`],
    ['control characters other than NUL', `${canary}\u0001\u0007\u001b[31m\u007f`],
    ['10,000 characters (each field at its maximum)', `${canary}${'x'.repeat(10_000)}`],
    ['10,000 astral characters (20,000 UTF-16 units)', `${canary}${'𝔘'.repeat(10_000)}`],
  ];

  it.each(oddStrings)('stores %s in every string field exactly, and shows it to no one else', async (name, value) => {
    const nhsNumber = freshSubject();
    const input = everyStringField(nhsNumber, value, `odd-${oddStrings.findIndex(([n]) => n === name)}`);
    const published = await hub.gql(await owner.token(), publishMutation, { input });
    expect(published.body).toEqual({ data: { publishRecords: { count: 6 } } });

    const read = await hub.gql(await owner.token(), readBack, { n: nhsNumber });
    expect(read.body.errors).toBeUndefined();
    const expected = Object.fromEntries(Object.entries(input).map(([list, items]) => [list, items.map(({ nhsNumber: _n, ...rest }) => rest)]));
    expect(read.body.data).toEqual({ subject: expected });

    const stranger = await hub.gql(await other.token(), readBack, { n: nhsNumber });
    expect(stranger.body).toEqual({ data: { subject: emptySubject } });
    expect(stranger.text).not.toContain(canary);
  });

  const allStringPaths = stringFields.flatMap(({ type, fields }) => fields.map((f) => `${type.listName}[0].${f.name}`)).sort();
  const refusedValues: [string, string, string[], RegExp][] = [
    ['NUL in every string field', `${canary}\u0000`, allStringPaths, /must not contain NUL/],
    ['10,001 characters in every string field', `${canary}${'x'.repeat(10_001)}`, allStringPaths, /must be at most \d+ characters/],
  ];

  it.each(refusedValues)('refuses %s, listing every field, writing nothing', async (_name, value, paths, reason) => {
    const before = await recordCount();
    const nhsNumber = freshSubject();
    const input = Object.fromEntries(stringFields.map(({ type, fields }) => [type.listName, [{ externalId: `bad-${type.listName}`, nhsNumber, ...Object.fromEntries(fields.map((f) => [f.name, value])) }]]));
    const response = await hub.gql(await owner.token(), publishMutation, { input });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.data).toBeNull();
    const problems = response.body.errors?.[0]?.extensions?.problems as { path: string; reason: string }[];
    expect(problems.map((p) => p.path).sort()).toEqual(paths);
    expect(problems.every((p) => reason.test(p.reason))).toBe(true);
    expect(response.text).not.toContain(canary);
    expect(await recordCount()).toBe(before);
  });

  // A lone surrogate cannot be encoded as UTF-8: stored, it would come back as U+FFFD, altered.
  it('refuses lone surrogates in a string field rather than storing them altered', async () => {
    const before = await recordCount();
    const nhsNumber = freshSubject();
    const response = await hub.gql(await owner.token(), publishMutation, { input: { demographics: [{ externalId: 'lone-1', nhsNumber, givenName: 'a\uD800b', familyName: 'x\uDC00' }] } });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    const problems = response.body.errors?.[0]?.extensions?.problems as { path: string; reason: string }[];
    expect(problems.map((p) => p.path).sort()).toEqual(['demographics[0].familyName', 'demographics[0].givenName']);
    expect(problems[0]?.reason).toMatch(/lone surrogate/);
    expect(await recordCount()).toBe(before);
  });

  it.each([
    ['empty', ''],
    ['201 characters', 'x'.repeat(201)],
    ['a NUL', 'ext\u0000id'],
    ['a line feed', 'ext\nid'],
    ['a lone surrogate', 'ext\uD800id'],
    ['a line separator', 'ext\u2028id'],
  ])('refuses an externalId that is %s, writing nothing', async (_name, externalId) => {
    const before = await recordCount();
    const response = await hub.gql(await owner.token(), publishMutation, { input: { demographics: [{ externalId: 'fine', nhsNumber: freshSubject() }, { externalId, nhsNumber: freshSubject() }] } });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect((response.body.errors?.[0]?.extensions?.problems as { path: string }[]).map((p) => p.path)).toEqual(['demographics[1].externalId']);
    expect(await recordCount()).toBe(before);
  });

  const badNhsNumbers: [string, string][] = [
    ['a wrong check digit', wrongCheckDigit],
    ['nine digits', '943476591'],
    ['eleven digits', '94347659199'],
    ['spaces', '943 476 5919'],
    ['full-width digits', '９４３４７６５９１９'],
    ['letters', 'ABCDEFGHIJ'],
    ['a check digit of 10 (never issued)', firstStemWithCheckTen()],
    ['an SQL fragment', "' OR 1=1 --"],
    ['empty', ''],
  ];

  it.each(badNhsNumbers)('refuses an NHS number with %s in a publish, locating it without echoing it', async (_name, nhsNumber) => {
    const before = await recordCount();
    const response = await hub.gql(await owner.token(), publishMutation, { input: { demographics: [{ externalId: 'ok', nhsNumber: freshSubject() }, { externalId: 'bad', nhsNumber }] } });
    expect(response.status).toBe(400);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect((response.body.errors?.[0]?.extensions?.problems as { path: string }[]).map((p) => p.path)).toEqual(['demographics[1].nhsNumber']);
    if (nhsNumber.length > 3) expect(response.text).not.toContain(nhsNumber);
    expect(await recordCount()).toBe(before);
  });

  it.each(badNhsNumbers)('refuses an NHS number with %s as the subject argument', async (_name, nhsNumber) => {
    const response = await hub.gql(await owner.token(), readBack, { n: nhsNumber });
    expect(response.status).toBe(400);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.data ?? null).toBeNull();
    if (nhsNumber.length > 3) expect(response.text).not.toContain(nhsNumber);
  });

  it.each([
    ['30 February', '2015-02-30'],
    ['29 February of a common year', '2015-02-29'],
    ['month 13', '2015-13-01'],
    ['day 00', '2015-01-00'],
    ['a two-digit year', '15-01-01'],
    ['no zero padding', '2015-1-1'],
    ['a date-time', '2015-01-01T00:00:00Z'],
    ['an expanded year', '+002015-01-01'],
    ['a number', 20150101],
  ])('refuses a date that is %s, writing nothing', async (_name, dateOfBirth) => {
    const before = await recordCount();
    const response = await hub.gql(await owner.token(), publishMutation, { input: { demographics: [{ externalId: 'ok', nhsNumber: freshSubject(), dateOfBirth: '2015-02-28' }, { externalId: 'bad', nhsNumber: freshSubject(), dateOfBirth }] } });
    expect(response.status).toBe(400);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect((response.body.errors?.[0]?.extensions?.problems as { path: string }[]).map((p) => p.path)).toEqual(['demographics[1].dateOfBirth']);
    expect(await recordCount()).toBe(before);
  });

  const manyItems = (count: number, nhsNumber: string) => Array.from({ length: count }, (_, i) => ({ externalId: `bulk-${count}-${i}`, nhsNumber, givenName: `${canary}-${i}` }));

  it('refuses 1001 items in one call as a whole, writing nothing', async () => {
    const before = await recordCount();
    const nhsNumber = freshSubject();
    const response = await hub.gql(await owner.token(), publishMutation, { input: { demographics: manyItems(600, nhsNumber), housingTenancies: manyItems(401, nhsNumber).map(({ givenName: _g, ...item }) => item) } });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.body.data).toBeNull();
    expect(response.body.errors?.[0]?.extensions?.problems).toEqual([{ path: 'input', reason: 'at most 1000 records may be published in one call (got 1001)' }]);
    expect(response.text).not.toContain(canary);
    expect(await recordCount()).toBe(before);
  });

  it('refuses 1000 items with three bad ones, locating each, writing nothing', async () => {
    const before = await recordCount();
    const nhsNumber = freshSubject();
    const items: Record<string, unknown>[] = manyItems(1000, nhsNumber);
    items[17] = { ...items[17], dateOfBirth: '2015-02-30' };
    items[500] = { ...items[500], externalId: 'bulk-1000-3' };
    items[999] = { ...items[999], postcode: 'much too long for a postcode' };
    const response = await hub.gql(await owner.token(), publishMutation, { input: { demographics: items } });
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect((response.body.errors?.[0]?.extensions?.problems as { path: string }[]).map((p) => p.path)).toEqual(['demographics[17].dateOfBirth']);
    // The Date scalar refuses the whole variable before the validator runs; with the date fixed,
    // the validator lists every remaining problem at once.
    items[17] = { ...items[17], dateOfBirth: null };
    const second = await hub.gql(await owner.token(), publishMutation, { input: { demographics: items } });
    expect(codesOf(second)).toEqual(['BAD_USER_INPUT']);
    expect((second.body.errors?.[0]?.extensions?.problems as { path: string }[]).map((p) => p.path)).toEqual(['demographics[500].externalId', 'demographics[999].postcode']);
    expect(await recordCount()).toBe(before);
  });

  it('accepts exactly 1000 items (the limit is not off by one)', async () => {
    const before = await recordCount();
    const response = await hub.gql(await owner.token(), publishMutation, { input: { demographics: manyItems(1000, freshSubject()) } });
    expect(response.body).toEqual({ data: { publishRecords: { count: 1000 } } });
    expect(await recordCount()).toBe(before + 1000);
  });
});

/** A nine-digit stem whose modulus-11 check digit would be 10: no valid NHS number starts with it. */
function firstStemWithCheckTen(): string {
  for (let stem = 400_000_000; ; stem += 1) {
    const digits = String(stem).padStart(9, '0');
    const sum = [...digits].reduce((total, d, i) => total + Number(d) * (10 - i), 0);
    if (11 - (sum % 11) === 10) return `${digits}0`;
  }
}
