import {
  GraphQLError,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  graphql,
  parseValue,
  type GraphQLScalarType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { ScalarInputError, scalarResolvers } from '../../src/graphql/scalars.js';

const { Date: DateScalar, DateTime, NHSNumber, JSON: JSONScalar } = scalarResolvers;

/** Runs parseValue and returns the thrown error (or fails the test if none is thrown). */
function refusal(scalar: GraphQLScalarType, value: unknown): GraphQLError {
  try {
    scalar.parseValue(value);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error(`${scalar.name} accepted ${JSON.stringify(value)}`);
}

function literalRefusal(scalar: GraphQLScalarType, literal: string): GraphQLError {
  try {
    scalar.parseLiteral(parseValue(literal), undefined);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error(`${scalar.name} accepted literal ${literal}`);
}

describe('NHSNumber', () => {
  it('accepts a valid number from variables and literals', () => {
    expect(NHSNumber.parseValue('9434765919')).toBe('9434765919');
    expect(NHSNumber.parseLiteral(parseValue('"9434765919"'), undefined)).toBe('9434765919');
    expect(NHSNumber.serialize('9434765919')).toBe('9434765919');
  });

  it.each([
    ['9434765918', /the check digit does not match/],
    ['943476591', /expected exactly 10 digits and nothing else, got 9 characters/],
    ['943 476 5919', /got 12 characters/],
    ['94347659AB', /expected exactly 10 digits/],
    [9434765919, /expected a string/],
    [null, /expected a string/],
  ])('refuses %j with BAD_USER_INPUT, naming the rule but not the value', (value, detail) => {
    const error = refusal(NHSNumber, value);
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error).toBeInstanceOf(ScalarInputError);
    expect(error.message).toContain('is not a valid NHS number (10 digits with a modulus-11 check digit)');
    expect(error.message).toMatch(detail);
    expect(error.message).not.toContain('943476591');
  });

  it.each(['"9434765918"', '9434765919', '"94347"', 'NHS'])('refuses the literal %s', (literal) => {
    const error = literalRefusal(NHSNumber, literal);
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.message).not.toContain('943476591');
    expect(error.nodes).toHaveLength(1);
  });

  it('will not serialise an invalid number', () => {
    expect(() => NHSNumber.serialize('9434765918')).toThrow(TypeError);
  });
});

describe('Date', () => {
  it.each(['2024-02-29', '2026-12-31'])('accepts %s', (value) => {
    expect(DateScalar.parseValue(value)).toBe(value);
    expect(DateScalar.parseLiteral(parseValue(JSON.stringify(value)), undefined)).toBe(value);
    expect(DateScalar.serialize(value)).toBe(value);
  });

  it.each([['2025-02-29'], ['2026-02-30'], ['2026-13-01'], ['31/12/2026'], ['2026-12-31T00:00:00Z'], [20261231], [null]])(
    'refuses %j',
    (value) => {
      const error = refusal(DateScalar, value);
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      expect(error.message).toBe('Date must be a calendar date written YYYY-MM-DD, e.g. 2026-03-31');
    },
  );

  it.each(['"2025-02-29"', '20250228', 'true'])('refuses the literal %s', (literal) => {
    expect(literalRefusal(DateScalar, literal).extensions.code).toBe('BAD_USER_INPUT');
  });

  it('serialises a Date object as its UTC day and refuses anything else', () => {
    expect(DateScalar.serialize(new Date('2026-03-31T23:30:00Z'))).toBe('2026-03-31');
    expect(() => DateScalar.serialize('2026-02-30')).toThrow(TypeError);
    expect(() => DateScalar.serialize(new Date('nonsense'))).toThrow(TypeError);
  });
});

describe('DateTime', () => {
  it('parses inputs to Date objects and serialises to UTC ISO strings', () => {
    const parsed = DateTime.parseValue('2026-11-23T10:15:00+01:00') as Date;
    expect(parsed).toBeInstanceOf(Date);
    expect(parsed.toISOString()).toBe('2026-11-23T09:15:00.000Z');
    expect((DateTime.parseLiteral(parseValue('"2026-11-23T10:15:00Z"'), undefined) as Date).toISOString()).toBe(
      '2026-11-23T10:15:00.000Z',
    );
    expect(DateTime.serialize(new Date('2026-11-23T10:15:00Z'))).toBe('2026-11-23T10:15:00.000Z');
    expect(DateTime.serialize('2026-11-23T10:15:00-02:00')).toBe('2026-11-23T12:15:00.000Z');
  });

  it.each([['2026-11-23T10:15:00'], ['2026-11-23'], ['2026-02-30T10:00:00Z'], [1_763_000_000_000], [null]])(
    'refuses %j (an instant needs an offset)',
    (value) => {
      const error = refusal(DateTime, value);
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(/RFC 3339 date-time with a time-zone offset/);
    },
  );

  it('refuses to serialise an invalid Date', () => {
    expect(() => DateTime.serialize(new Date('nonsense'))).toThrow(TypeError);
    expect(() => DateTime.serialize({})).toThrow(TypeError);
  });
});

describe('JSON', () => {
  it.each([
    ['{ a: 1, b: [true, null, "x"], c: { d: 2.5 } }', { a: 1, b: [true, null, 'x'], c: { d: 2.5 } }],
    ['[1, "two", false]', [1, 'two', false]],
    ['"text"', 'text'],
    ['42', 42],
    ['-1.5e3', -1500],
    ['null', null],
    ['ENUM_LIKE', 'ENUM_LIKE'],
  ])('parses the literal %s', (literal, expected) => {
    expect(JSONScalar.parseLiteral(parseValue(literal), undefined)).toEqual(expected);
  });

  it('substitutes variables inside literals and refuses missing ones', () => {
    expect(JSONScalar.parseLiteral(parseValue('{ sig: $sig, n: [$n] }'), { sig: 'abc', n: 3 })).toEqual({ sig: 'abc', n: [3] });
    const error = (() => {
      try {
        JSONScalar.parseLiteral(parseValue('{ sig: $missing }'), {});
      } catch (e) {
        return e as GraphQLError;
      }
      return undefined;
    })();
    expect(error?.extensions.code).toBe('BAD_USER_INPUT');
    expect(error?.message).toContain('$missing');
  });

  it('keeps a __proto__ key as data', () => {
    const value = JSONScalar.parseLiteral(parseValue('{ __proto__: { polluted: true } }'), undefined) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([{ a: [1, { b: null }] }, [], 'x', 0, false, null])('passes the variable %j through unchanged', (value) => {
    expect(JSONScalar.parseValue(value)).toEqual(value);
    expect(JSONScalar.serialize(value)).toEqual(value);
  });
});

describe('the scalars in an executable schema', () => {
  // Built with graphql-js itself rather than @graphql-tools: this test is about the scalars, and
  // it must not depend on how the test runner resolves graphql for third-party packages.
  const arg = (type: GraphQLScalarType) => ({ type: new GraphQLNonNull(type) });
  const echo = (name: string) => (_: unknown, args: Record<string, unknown>) => args[name];
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        nhs: { type: new GraphQLNonNull(NHSNumber), args: { n: arg(NHSNumber) }, resolve: echo('n') },
        day: { type: new GraphQLNonNull(DateScalar), args: { d: arg(DateScalar) }, resolve: echo('d') },
        at: { type: new GraphQLNonNull(DateTime), args: { t: arg(DateTime) }, resolve: echo('t') },
        json: { type: JSONScalar, args: { j: arg(JSONScalar) }, resolve: echo('j') },
      },
    }),
  });

  it('round-trips valid values', async () => {
    const result = await graphql({
      schema,
      source: 'query($t: DateTime!, $j: JSON!) { nhs(n: "9434765919") day(d: "2024-02-29") at(t: $t) json(j: $j) }',
      variableValues: { t: '2026-11-23T10:15:00+01:00', j: { envelope: { payload: 'x', signatures: [] } } },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      nhs: '9434765919',
      day: '2024-02-29',
      at: '2026-11-23T09:15:00.000Z',
      json: { envelope: { payload: 'x', signatures: [] } },
    });
  });

  it('reports a bad literal as BAD_USER_INPUT without echoing the NHS number', async () => {
    const result = await graphql({ schema, source: '{ nhs(n: "9434765918") }' });
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).not.toContain('9434765918');
    expect(result.errors?.[0]?.locations).toEqual([{ line: 1, column: 10 }]);
  });

  it.each([
    ['query($v: NHSNumber!) { nhs(n: $v) }', '9434765918'],
    ['query($v: Date!) { day(d: $v) }', '2025-02-29'],
    ['query($v: DateTime!) { at(t: $v) }', '2031-05-05T10:15:00'],
  ])('reports a bad variable as BAD_USER_INPUT with a ScalarInputError as its cause: %s', async (source, v) => {
    const result = await graphql({ schema, source, variableValues: { v } });
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const cause = result.errors?.[0]?.originalError;
    expect(cause).toBeInstanceOf(ScalarInputError);
    expect(cause?.message).not.toContain(v);
  });
});
