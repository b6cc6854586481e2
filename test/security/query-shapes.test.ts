/**
 * Query shapes a curious or hostile partner might try: every path to a withheld field, every
 * bomb the operation limits exist for, and the HTTP shapes production mode refuses. One
 * production hub for the whole file (and one demo hub for the contrast cases).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type GraphQLResponse, type TestHub } from '../helpers/test-hub.js';
import { threeSubjectsQuery } from '../graphql/fixtures/partner-queries.js';
import { adult, child, codesOf, errorPaths, everythingQuery, expectRefused, nothingVisible, setUpPartnership, sharedView, sharedViewWithheldPaths, stranger, type Partnership } from './fixtures.js';

const unlimitedRate = { ACCORD_RATE_LIMIT_PER_SECOND: '100000', ACCORD_RATE_LIMIT_BURST: '100000' };

/** One HTTP request with full control of method, headers and body (for shapes `hub.gql` cannot send). */
async function send(url: string, init: { method?: string; token?: string; headers?: Record<string, string>; body?: string; search?: string } = {}): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql${init.search ?? ''}`, {
    method: init.method ?? 'POST',
    headers: { ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }), ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let body: GraphQLResponse['body'] = {};
  try {
    body = JSON.parse(text) as GraphQLResponse['body'];
  } catch {
    // Not JSON: the assertions on `text` still apply.
  }
  return { status: response.status, headers: response.headers, body, text };
}

const cases = (n: string) => `subject(nhsNumber: "${n}")`;

describe('security corpus: query shapes (production mode)', () => {
  let hub: TestHub;
  let p: Partnership;

  beforeAll(async () => {
    hub = await startTestHub({ env: unlimitedRate });
    p = await setUpPartnership(hub);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  // [name, query, exact data, exact `CODE path` of every error]
  const dataCases: [string, string, unknown, string[]][] = [
    ['every field of every type (the baseline)', everythingQuery, sharedView, sharedViewWithheldPaths.map((path) => `NOT_SHARED ${path}`)],
    [
      'an alias of a withheld field',
      `{ ${cases(child)} { socialCareCases { caseRef secret: summary } } }`,
      { subject: { socialCareCases: [{ caseRef: 'KC-CH-1', secret: null }] } },
      ['NOT_SHARED subject.socialCareCases.0.secret'],
    ],
    [
      'many aliases of one withheld field',
      `{ ${cases(child)} { socialCareCases { a: summary b: summary c: leadWorker d: category } } }`,
      { subject: { socialCareCases: [{ a: null, b: null, c: null, d: null }] } },
      ['NOT_SHARED subject.socialCareCases.0.a', 'NOT_SHARED subject.socialCareCases.0.b', 'NOT_SHARED subject.socialCareCases.0.c', 'NOT_SHARED subject.socialCareCases.0.d'],
    ],
    [
      'a named fragment',
      `{ ${cases(child)} { socialCareCases { ...F } } } fragment F on SocialCareCase { caseRef summary }`,
      { subject: { socialCareCases: [{ caseRef: 'KC-CH-1', summary: null }] } },
      ['NOT_SHARED subject.socialCareCases.0.summary'],
    ],
    [
      'nested named fragments',
      `{ ${cases(child)} { ...S } } fragment S on Subject { demographics { ...D } } fragment D on Demographics { ...E givenName } fragment E on Demographics { postcode }`,
      { subject: { demographics: [{ postcode: null, givenName: 'Sam' }] } },
      ['NOT_SHARED subject.demographics.0.postcode'],
    ],
    [
      'an inline fragment on Record',
      `{ ${cases(child)} { socialCareCases { ... on Record { externalId recordType } } } }`,
      { subject: { socialCareCases: [{ externalId: 'kc-c-1', recordType: 'SocialCareCase' }] } },
      [],
    ],
    [
      '... on SocialCareCase inside ... on Record',
      `{ ${cases(child)} { socialCareCases { ... on Record { ... on SocialCareCase { leadWorker summary } } } } }`,
      { subject: { socialCareCases: [{ leadWorker: null, summary: null }] } },
      ['NOT_SHARED subject.socialCareCases.0.leadWorker', 'NOT_SHARED subject.socialCareCases.0.summary'],
    ],
    [
      'a named fragment on Record spread into a withheld type\'s list',
      `{ ${cases(child)} { policeNotifications { ...R } gpRegistrations { ...R } } } fragment R on Record { externalId ... on PoliceNotification { summary } }`,
      { subject: { policeNotifications: [], gpRegistrations: [] } },
      [],
    ],
    [
      'duplicated fields',
      `{ ${cases(child)} { socialCareCases { summary summary caseRef summary } } }`,
      { subject: { socialCareCases: [{ summary: null, caseRef: 'KC-CH-1' }] } },
      ['NOT_SHARED subject.socialCareCases.0.summary'],
    ],
    [
      '__typename probing of every list',
      `{ __typename ${cases(child)} { __typename demographics { __typename } socialCareCases { __typename } schoolEnrolments { __typename } housingTenancies { __typename } policeNotifications { __typename } gpRegistrations { __typename } } }`,
      {
        __typename: 'Query',
        subject: { __typename: 'Subject', demographics: [{ __typename: 'Demographics' }], socialCareCases: [{ __typename: 'SocialCareCase' }], schoolEnrolments: [], housingTenancies: [], policeNotifications: [], gpRegistrations: [] },
      },
      [],
    ],
    [
      'a withheld field behind @include(if: true) and @skip(if: false)',
      `{ ${cases(child)} { socialCareCases { a: summary @include(if: true) b: summary @skip(if: false) } } }`,
      { subject: { socialCareCases: [{ a: null, b: null }] } },
      ['NOT_SHARED subject.socialCareCases.0.a', 'NOT_SHARED subject.socialCareCases.0.b'],
    ],
    [
      'a record the where-condition excludes (the adults\' case), by every route',
      `{ ${cases(adult)} { socialCareCases { externalId ... on Record { id } ...F } } } fragment F on SocialCareCase { caseRef }`,
      { subject: { socialCareCases: [] } },
      [],
    ],
    ['a subject the hub holds nothing about', everythingQuery.replace('Everything($n: NHSNumber!)', 'Everything').replace('nhsNumber: $n', `nhsNumber: "${stranger}"`), nothingVisible, []],
  ];

  it.each(dataCases)('releases exactly the agreed fields through %s', async (_name, query, data, withheld) => {
    const response = await hub.gql(await p.westminster.token(), query, query.includes('$n') ? { n: child } : undefined);
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual(data);
    expect(errorPaths(response)).toEqual([...withheld].sort());
    expect(response.text).not.toContain(p.canary);
  });

  it.each([
    ['another purpose', () => p.westminster.token({ purpose: 'education-welfare' })],
    ['a role the agreement does not list', () => p.westminster.token({ roles: ['housing-officer'] })],
    ['an organisation that is not a party', () => p.camden.token()],
    ['a break-glass claim the agreement does not allow', () => p.westminster.token({ purpose: 'emergency', break_glass: { reason: 'urgent: child missing from home tonight' } })],
  ])('shows nothing, in the same shape, to %s', async (_name, token) => {
    const response = await hub.gql(await token(), everythingQuery, { n: child });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: nothingVisible });
    expect(response.text).not.toContain(p.canary);
  });

  const fanOut = (levels: number) =>
    `{ me { ...F0 } } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on Caller { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F${levels} on Caller { subject }`;

  // [name, query, variables, exact codes, message of the first error]
  const refusedShapes: [string, string, Record<string, unknown> | undefined, string[], RegExp][] = [
    ['deep nesting (depth 10)', '{ me { organisation { a { b { c { d { e { f { g { h } } } } } } } } } }', undefined, ['QUERY_TOO_COMPLEX', 'BAD_USER_INPUT'], /^query depth exceeds the limit$/],
    ['deep nesting of 600 braces (stopped by the parser)', `{ me ${'{ a '.repeat(600)}${'}'.repeat(601)}`, undefined, ['QUERY_TOO_COMPLEX'], /^query tokens exceed the limit$/],
    ['an alias bomb on the root', `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: me { subject }`).join(' ')} }`, undefined, ['QUERY_TOO_COMPLEX', 'QUERY_TOO_COMPLEX'], /^query aliases exceed the limit$/],
    ['an alias bomb on a withheld field', `{ ${cases(child)} { socialCareCases { ${Array.from({ length: 25 }, (_, i) => `s${i}: summary`).join(' ')} } } }`, undefined, ['QUERY_TOO_COMPLEX'], /^query aliases exceed the limit$/],
    ['a directive bomb', `{ me { ${'subject @include(if: true) '.repeat(21)} } }`, undefined, ['QUERY_TOO_COMPLEX'], /^query directives exceed the limit$/],
    ['too many root fields', `{ ${'me { subject } '.repeat(11)} }`, undefined, ['QUERY_TOO_COMPLEX'], /^query root fields exceed the limit$/],
    ['a cost bomb (three full subjects)', threeSubjectsQuery, { a: child, b: adult, c: stranger }, ['QUERY_TOO_COMPLEX'], /^query cost exceeds the limit$/],
    ['a fragment fan-out to 2^40 copies', fanOut(40), undefined, ['QUERY_TOO_COMPLEX'], /^query cost exceeds the limit$/],
    ['a token flood', `{ me { ${'subject '.repeat(1200)} } }`, undefined, ['QUERY_TOO_COMPLEX'], /^query tokens exceed the limit$/],
    ['a comment flood', `{\n${'# x\n'.repeat(300)} me { subject } }`, undefined, ['QUERY_TOO_COMPLEX'], /^query comments exceed the limit$/],
    ['a fragment cycle', '{ me { ...A } } fragment A on Caller { subject ...B } fragment B on Caller { ...A }', undefined, ['BAD_USER_INPUT'], /Cannot spread fragment "A" within itself/],
  ];

  it.each(refusedShapes)('refuses %s before execution', async (_name, query, variables, codes, message) => {
    const started = performance.now();
    const response = await hub.gql(await p.westminster.token(), query, variables);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect({ status: response.status, codes: codesOf(response) }).toEqual({ status: 400, codes });
    expect(response.body.errors?.[0]?.message).toMatch(message);
    expect(response.body.data ?? null).toBeNull();
    expect(response.text).not.toContain(p.canary);
    // Production mode names the limit, never its configured value.
    expect(response.text).not.toMatch(/\(\d+ > \d+\)/);
  });

  it('refuses a body over 4 MiB with 413 QUERY_TOO_COMPLEX before reading it all', async () => {
    const response = await hub.gql(await p.westminster.token(), `{ me { subject } } # ${'x'.repeat(4 * 1024 * 1024)}`);
    expectRefused(response, 413, 'QUERY_TOO_COMPLEX', p.canary, /^request body exceeds the size limit$/);
  });

  it('refuses a batched (array) body', async () => {
    const body = JSON.stringify([{ query: everythingQuery, variables: { n: child } }, { query: everythingQuery, variables: { n: child } }]);
    const response = await send(hub.url, { token: await p.kc.token(), headers: { 'content-type': 'application/json' }, body });
    expectRefused(response, 400, 'QUERY_TOO_COMPLEX', p.canary, /batched requests are not accepted/);
  });

  const retractGet = `?query=${encodeURIComponent('mutation { retractRecords(recordType: Demographics, externalIds: ["kc-d-1"]) }')}`;
  it.each([
    ['a plain GET (CSRF guard)', {}, 400, /Cross-Site Request Forgery/],
    ['a GET that passes the CSRF guard', { 'apollo-require-preflight': 'true' }, 405, /GET requests only support query operations/],
  ])('refuses a mutation over %s, and nothing is retracted', async (_name, headers, status, message) => {
    const response = await send(hub.url, { method: 'GET', token: await p.kc.token(), headers, search: retractGet });
    expectRefused(response, status, 'BAD_USER_INPUT', p.canary, message);
    const read = await hub.gql(await p.westminster.token(), everythingQuery, { n: child });
    expect(read.body.data).toEqual(sharedView);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['no content type', undefined],
  ])('refuses a simple-request POST (%s) with 415, writing nothing (CSRF)', async (_name, type) => {
    const body = JSON.stringify({ query: 'mutation { retractRecords(recordType: Demographics, externalIds: ["kc-d-1"]) }' });
    const response = await send(hub.url, { token: await p.kc.token(), headers: type === undefined ? {} : { 'content-type': type }, body });
    expectRefused(response, 415, 'BAD_USER_INPUT', p.canary, /Content-Type must be application\/json/);
    const read = await hub.gql(await p.westminster.token(), everythingQuery, { n: child });
    expect(read.body.data).toEqual(sharedView);
  });

  it.each([
    ['__schema', '{ __schema { types { name fields { name } } } }'],
    ['__type', '{ __type(name: "PoliceNotification") { fields { name } } }'],
    ['__schema behind an alias and a fragment', '{ ...I } fragment I on Query { s: __schema { queryType { name } } }'],
  ])('refuses introspection (%s) in production', async (_name, query) => {
    const response = await hub.gql(await p.westminster.token(), query);
    expectRefused(response, 400, 'BAD_USER_INPUT', p.canary, /introspection is not allowed/);
    expect(response.text).not.toMatch(/SocialCareCase|PoliceNotification"\s*,|summary/);
  });

  const suggestionProbes: [string, string, Record<string, unknown> | undefined][] = [
    ['a mistyped field', '{ me { subjct } }', undefined],
    ['a mistyped argument', `{ subject(nhsNumbr: "${child}") { nhsNumber } }`, undefined],
    ['a mistyped type condition', `{ ${cases(child)} { socialCareCases { ... on SocialCare { summary } } } }`, undefined],
    ['a mistyped enum literal', '{ agreements(status: ACTIV) { id } }', undefined],
    ['a mistyped input field literal', 'mutation { publishRecords(input: { demographic: [] }) { count } }', undefined],
  ];

  it.each(suggestionProbes)('gives no "Did you mean" suggestion for %s in production', async (_name, query, variables) => {
    const response = await hub.gql(await p.westminster.token(), query, variables);
    expect(response.status).toBe(400);
    expect(codesOf(response)[0]).toBe('BAD_USER_INPUT');
    expect(response.text).not.toMatch(/Did you mean/i);
  });

  // Apollo's hideSchemaDetailsFromClientErrors strips suggestions from validation errors only;
  // variable coercion errors carry graphql-js's "Did you mean ...?", removed by formatError.
  it.each([
    ['a mistyped enum value in a variable', 'query Q($s: AgreementStatus) { agreements(status: $s) { id } }', { s: 'ACTIV' }],
    ['a mistyped input field in a variable', 'mutation P($input: PublishRecordsInput!) { publishRecords(input: $input) { count } }', { input: { demographic: [] } }],
  ])('gives no "Did you mean" suggestion for %s in production', async (_name, query, variables) => {
    const response = await hub.gql(await p.westminster.token(), query, variables);
    expect(response.status).toBe(400);
    expect(codesOf(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.text).not.toMatch(/Did you mean/i);
  });
});

describe('security corpus: demo mode, for contrast', () => {
  let hub: TestHub;
  let p: Partnership;

  beforeAll(async () => {
    hub = await startTestHub({ mode: 'demo', env: unlimitedRate });
    p = await setUpPartnership(hub);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('allows introspection in demo mode', async () => {
    const response = await hub.gql(await p.westminster.token(), '{ __schema { queryType { name } } }');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('suggests field names and states limit values in demo mode', async () => {
    const typo = await hub.gql(await p.westminster.token(), '{ me { subjct } }');
    expect(typo.body.errors?.[0]?.message).toBe('Cannot query field "subjct" on type "Caller". Did you mean "subject"?');
    const bomb = await hub.gql(await p.westminster.token(), `{ ${'me { subject } '.repeat(11)} }`);
    expect(bomb.body.errors?.map((e) => e.message)).toEqual(['query root fields exceed the limit (11 > 10)']);
  });

  it('still withholds what the agreement does not cover (demo mode is not an open door)', async () => {
    const response = await hub.gql(await p.westminster.token(), everythingQuery, { n: child });
    expect(response.body.data).toEqual(sharedView);
    expect(response.text).not.toContain(p.canary);
  });
});
