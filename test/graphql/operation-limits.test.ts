import { ApolloServer, HeaderMap } from '@apollo/server';
import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate, type GraphQLFormattedError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimitsPlugin } from '../../src/graphql/limits-plugin.js';
import { loadSdl } from '../../src/graphql/load-sdl.js';
import {
  createOperationLimits,
  defaultOperationLimits,
  resolveOperationLimits,
  type OperationLimitOptions,
} from '../../src/graphql/operation-limits.js';
import {
  agreementsQuery,
  dpoAuditPageByVariableQuery,
  dpoAuditPageQuery,
  fullSubjectQuery,
  publishMutation,
  threeSubjectsQuery,
  twoSubjectsQuery,
} from './fixtures/partner-queries.js';

const schema = buildSchema(loadSdl().join('\n'));

interface Outcome {
  /** Messages of the QUERY_TOO_COMPLEX errors, in order. */
  readonly limits: string[];
  /** Messages of every other error (graphql-js's own rules). */
  readonly others: string[];
}

/** Parses and validates as Apollo Server does: parseOptions, then specified rules plus ours in one pass. */
function check(query: string, options: OperationLimitOptions = {}): Outcome {
  const setup = createOperationLimits(options);
  let document;
  try {
    document = parse(query, setup.parseOptions);
  } catch (error) {
    const limit = setup.errorOf(error);
    return limit === undefined ? { limits: [], others: [(error as Error).message] } : { limits: [limit.message], others: [] };
  }
  const errors = validate(schema, document, [...specifiedRules, ...setup.validationRules]);
  const limits: string[] = [];
  const others: string[] = [];
  for (const error of errors) {
    const limit = setup.errorOf(error);
    if (limit === undefined) others.push(error.message);
    else {
      expect(limit.code).toBe('QUERY_TOO_COMPLEX');
      limits.push(limit.message);
    }
  }
  return { limits, others };
}

const times = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join(' ');

/** A fragment chain where each level spreads the next twice: 2^levels copies of the last one. */
function fanOut(levels: number, leaf: string): string {
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Caller { ...F${i + 1} ...F${i + 1} }`);
  return `{ me { ...F0 } } ${fragments.join(' ')} fragment F${levels} on Caller { ${leaf} }`;
}

describe('operation limits: real partner queries pass with the defaults', () => {
  it.each([
    ['full subject (six lists, every field, fragments)', fullSubjectQuery],
    ['two full subjects (a household)', twoSubjectsQuery],
    ['DPO audit page of 500', dpoAuditPageQuery],
    ['DPO audit page with first as a variable', dpoAuditPageByVariableQuery],
    ['agreements screen', agreementsQuery],
    ['publish through variables', publishMutation],
    ["GraphiQL's introspection query", getIntrospectionQuery()],
  ])('%s', (_name, query) => {
    expect(check(query)).toEqual({ limits: [], others: [] });
  });

  it('measures them as the defaults document (revealed in demo mode)', () => {
    const measure = (query: string): string[] =>
      check(query, { production: false, maxDepth: 0, maxCost: 0, maxAliases: 0, maxRootFields: 0, maxDirectives: 0 }).limits;
    expect(measure(fullSubjectQuery)).toEqual([
      'query depth exceeds the limit (4 > 0)',
      'query cost exceeds the limit (20708 > 0)',
      'query root fields exceed the limit (1 > 0)',
    ]);
    // Each event's records costed at AuditEvent.records, each record's agreements at AuditRecord.agreements.
    expect(measure(dpoAuditPageQuery)).toEqual(expect.arrayContaining(['query depth exceeds the limit (6 > 0)', 'query cost exceeds the limit (40501 > 0)']));
    // A variable `first` counts as the resolver's maximum page (500), the same as the literal.
    expect(measure(dpoAuditPageByVariableQuery)).toContain('query cost exceeds the limit (40501 > 0)');
    expect(measure(twoSubjectsQuery)).toContain('query cost exceeds the limit (41416 > 0)');
    expect(measure(agreementsQuery)).toContain('query cost exceeds the limit (28212 > 0)');
  });
});

describe('operation limits: hostile and careless shapes are refused with QUERY_TOO_COMPLEX', () => {
  const deepThroughFragments = /* GraphQL */ `
    { agreements { ...A } }
    fragment A on Agreement { recipients { ... on AgreementRecipient { organisation { ...O } } } }
    fragment O on Organisation { id }
  `;
  const cases: [string, string, OperationLimitOptions, string[], string[]][] = [
    [
      'deep nesting through named and inline fragments',
      deepThroughFragments,
      { maxDepth: 3 },
      ['query depth exceeds the limit'],
      [],
    ],
    [
      'deep nesting of unknown fields (the schema itself is shallow)',
      `{ ${'a { '.repeat(9)}b${' }'.repeat(9)} }`,
      {},
      ['query depth exceeds the limit'],
      ['Cannot query field "a" on type "Query".'],
    ],
    [
      'alias bomb inside one field',
      `{ me { ${times(21, (i) => `a${i}: subject`)} } }`,
      {},
      ['query aliases exceed the limit'],
      [],
    ],
    [
      'aliases counted through a fragment spread twice',
      `{ me { ...F ...F } } fragment F on Caller { ${times(11, (i) => `a${i}: subject`)} }`,
      {},
      ['query aliases exceed the limit'],
      [],
    ],
    [
      'alias bomb at the root',
      `{ ${times(21, (i) => `m${i}: me { subject }`)} }`,
      {},
      ['query aliases exceed the limit', 'query root fields exceed the limit'],
      [],
    ],
    [
      'directive bomb through a fragment',
      `{ me { ${times(21, () => '...F')} } } fragment F on Caller { subject @include(if: true) }`,
      {},
      ['query directives exceed the limit'],
      [],
    ],
    [
      'directive bomb on inline fragments and the operation',
      `query Q @skip(if: false) { me { ${times(20, () => '... @include(if: true) { subject }')} } }`,
      {},
      ['query directives exceed the limit'],
      ['Directive "@skip" may not be used on QUERY.'],
    ],
    [
      'too many root fields (duplicates count: each one runs a resolver)',
      `{ ${times(11, () => 'me { subject }')} }`,
      {},
      ['query root fields exceed the limit'],
      [],
    ],
    [
      'root fields counted through fragments',
      `{ ...Q ...Q } fragment Q on Query { ${times(6, () => 'organisations { id }')} }`,
      {},
      ['query root fields exceed the limit'],
      [],
    ],
    ['three full subjects (worst-case cost)', threeSubjectsQuery, {}, ['query cost exceeds the limit'], []],
    [
      'huge list cost: a 500-event page plus every subject access report field',
      `{ auditEvents(first: 500) { edges { node { seq id at records { recordId fields } details hash prevHash } } }
         subjectAccessReport(nhsNumber: "9434765919") { seq id at action actorRoles details hash prevHash
           records { recordType recordId fields withheld agreements { id version payloadHash } } ownerOrg nhsNumber outcome operationName queryHash sensitivity
           actorOrg actorUser purpose caseRef requestId } }`,
      { maxCost: 20_000 },
      ['query cost exceeds the limit'],
      [],
    ],
    [
      'a page size over the maximum counts as the maximum, so is still limited by cost',
      `{ auditEvents(first: 1000000) { edges { node { seq } } } }`,
      { maxCost: 1_500 },
      ['query cost exceeds the limit'],
      [],
    ],
    [
      'exponential fragment fan-out (2^40 copies) is measured without expanding it',
      fanOut(40, 'a: subject'),
      {},
      ['query cost exceeds the limit', 'query aliases exceed the limit'],
      [],
    ],
    ['tokens over the limit', `{ ${'me '.repeat(1_000)}}`, {}, ['query tokens exceed the limit'], []],
    ['comments over the limit', `{\n${'# x\n'.repeat(201)} me { subject } }`, {}, ['query comments exceed the limit'], []],
  ];

  it.each(cases)('%s', (_name, query, options, limits, others) => {
    expect(check(query, options)).toEqual({ limits, others });
  });

  it('passes the same shapes just under each limit', () => {
    expect(check(`{ me { ${times(20, (i) => `a${i}: subject`)} } }`)).toEqual({ limits: [], others: [] });
    expect(check(`{ me { ${times(20, () => '...F')} } } fragment F on Caller { subject @include(if: true) }`)).toEqual({ limits: [], others: [] });
    expect(check(`{ ${times(10, () => 'me { subject }')} }`)).toEqual({ limits: [], others: [] });
    expect(check(deepThroughFragments, { maxDepth: 4 })).toEqual({ limits: [], others: [] });
    // 2 braces and 4 tokens per `me { subject }`: exactly 42 tokens.
    expect(check(`{ ${'me { subject } '.repeat(10)}}`, { maxTokens: 42 })).toEqual({ limits: [], others: [] });
    expect(check(`{ ${'me { subject } '.repeat(10)}}`, { maxTokens: 41 }).limits).toEqual(['query tokens exceed the limit']);
    expect(check(`{ auditEvents(first: 1000000) { edges { node { seq } } } }`, { maxCost: 2_000 })).toEqual({ limits: [], others: [] });
  });

  it.each([
    ['a fragment spreading itself', `{ me { ...A } } fragment A on Caller { subject ...A }`, ['Cannot spread fragment "A" within itself.']],
    [
      'two fragments spreading each other',
      `{ me { ...A } } fragment A on Caller { ...B } fragment B on Caller { roles ...A }`,
      ['Cannot spread fragment "A" within itself via "B".'],
    ],
  ])('fragment cycles (%s) end in graphql-js\'s error, not a hang', (_name, query, others) => {
    expect(check(query)).toEqual({ limits: [], others });
  });

  it('checks every operation of a document and points at the one over the limit', () => {
    const setup = createOperationLimits({ maxRootFields: 1 });
    const document = parse(`query Small { me { subject } } query Big { me { subject } organisations { id } }`);
    const errors = validate(schema, document, [...specifiedRules, ...setup.validationRules]);
    expect(errors.map((e) => [e.message, e.locations])).toEqual([['query root fields exceed the limit', [{ line: 1, column: 32 }]]]);
  });

  it('states the measured value and the limit only outside production mode', () => {
    const query = `{ me { ${times(21, (i) => `a${i}: subject`)} } }`;
    expect(check(query, { production: false }).limits).toEqual(['query aliases exceed the limit (21 > 20)']);
    expect(check(query, { production: true }).limits).toEqual(['query aliases exceed the limit']);
    expect(check(`{ ${'me '.repeat(1_000)}}`, { production: false }).limits).toEqual(['query tokens exceed the limit (1000)']);
    expect(createOperationLimits({ production: false }).bodyTooLarge().message).toBe('request body size exceeds the limit (4194304)');
    expect(createOperationLimits().bodyTooLarge()).toMatchObject({ code: 'QUERY_TOO_COMPLEX', message: 'request body size exceeds the limit' });
  });

  it('recognises only the parser limits it set, not other syntax errors', () => {
    expect(check('{ me { subject }')).toEqual({ limits: [], others: ['Syntax Error: Expected Name, found <EOF>.'] });
  });
});

describe('operation limit options', () => {
  it('merge list sizes over the defaults and keep the rest', () => {
    const limits = resolveOperationLimits({ maxCost: 10, listSizes: { 'Query.organisations': 5 } });
    expect(limits.maxCost).toBe(10);
    expect(limits.maxDepth).toBe(defaultOperationLimits.maxDepth);
    expect(limits.listSizes['Query.organisations']).toBe(5);
    expect(limits.listSizes['Subject.demographics']).toBe(100);
  });

  it.each([
    [{ maxDepth: -1 }, 'operation limit maxDepth must be a non-negative integer'],
    [{ maxCost: 1.5 }, 'operation limit maxCost must be a non-negative integer'],
    [{ maxTokens: Number.NaN }, 'operation limit maxTokens must be a non-negative integer'],
  ])('refuse %o', (options, message) => {
    expect(() => resolveOperationLimits(options)).toThrow(new TypeError(message));
  });
});

describe.each([
  ['with queryTooComplexErrorOf in formatError', 'formatError'],
  ['with createLimitsPlugin and a formatError that maps Apollo\'s codes', 'plugin'],
] as const)('operation limits inside Apollo Server 5 %s', (_name, wiring) => {
  const options = { production: true };
  const limits = createOperationLimits(options);
  const server = new ApolloServer({
    typeDefs: loadSdl(),
    resolvers: { Query: { organisations: () => [] } },
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    plugins: wiring === 'plugin' ? [createLimitsPlugin(options)] : [],
    // The real formatError does more; these are the two parts that concern the limits.
    formatError: (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
      if (wiring === 'formatError') {
        const limit = limits.errorOf(error);
        if (limit !== undefined) return { message: limit.message, extensions: { code: limit.code } };
      }
      const code = formatted.extensions?.code;
      return code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED'
        ? { message: formatted.message, extensions: { code: 'BAD_USER_INPUT', reason: code } }
        : formatted;
    },
  });
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function post(body: unknown): Promise<{ status: number; body: unknown }> {
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers: new HeaderMap([['content-type', 'application/json']]), search: '', body },
      context: async () => ({}),
    });
    if (response.body.kind !== 'complete') throw new Error('expected a complete body');
    return { status: response.status ?? 200, body: JSON.parse(response.body.string) };
  }

  it.each([
    ['validation rules', `{ me { ${times(21, (i) => `a${i}: subject`)} } }`, 'query aliases exceed the limit'],
    ['parser token limit', `{ ${'organisations { id } '.repeat(300)}}`, 'query tokens exceed the limit'],
  ])('answer 400 QUERY_TOO_COMPLEX from the %s', async (_name, query, message) => {
    const response = await post({ query });
    expect(response).toMatchObject({ status: 400, body: { errors: [{ message, extensions: { code: 'QUERY_TOO_COMPLEX' } }] } });
    expect((response.body as { errors: unknown[] }).errors).toHaveLength(1);
  });

  it('leave other validation errors alone', async () => {
    expect(await post({ query: '{ nope }' })).toMatchObject({
      status: 400,
      body: { errors: [{ message: 'Cannot query field "nope" on type "Query".', extensions: { code: 'BAD_USER_INPUT' } }] },
    });
  });

  it('run the query when it is within the limits', async () => {
    expect(await post({ query: '{ organisations { id } }' })).toEqual({ status: 200, body: { data: { organisations: [] } } });
  });

  it('refuse a batched (array) request: allowBatchedHttpRequests is false by default in Apollo Server 5', async () => {
    const response = await post([{ query: '{ organisations { id } }' }, { query: '{ organisations { id } }' }]);
    expect(response).toMatchObject({ status: 400, body: { errors: [{ message: 'Operation batching disabled.' }] } });
  });
});
