/**
 * The custom scalars of CONTRACT §5: `Date`, `DateTime`, `NHSNumber` and `JSON`. Each refuses
 * bad input at the edge, before any resolver runs, with `extensions.code: BAD_USER_INPUT` and a
 * message saying what is wrong. Messages never echo the value: an NHS number or a date of birth
 * is personal data, and error messages end up in logs.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { isValidDate, isValidNhsNumber, parseDateTime } from '../records/index.js';

/**
 * A scalar refusing an input value. graphql-js prefixes errors from variables with
 * `Variable "$x" got invalid value <value>`, which echoes the value; the error formatter can
 * recognise this class on `originalError` and send only this (value-free) message instead.
 */
export class ScalarInputError extends GraphQLError {
  constructor(message: string, node?: ValueNode) {
    super(message, { ...(node === undefined ? {} : { nodes: node }), extensions: { code: 'BAD_USER_INPUT' } });
    this.name = 'ScalarInputError';
  }
}

const dateRule = 'Date must be a calendar date written YYYY-MM-DD, e.g. 2026-03-31';
const dateTimeRule = 'DateTime must be an RFC 3339 date-time with a time-zone offset, e.g. 2026-11-23T10:15:00Z';
const nhsNumberRule = 'is not a valid NHS number (10 digits with a modulus-11 check digit)';

function parseDate(value: unknown, node?: ValueNode): string {
  if (typeof value !== 'string' || !isValidDate(value)) throw new ScalarInputError(dateRule, node);
  return value;
}

export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar date, `YYYY-MM-DD` (ISO 8601), which must exist in the calendar.',
  serialize(value) {
    if (typeof value === 'string' && isValidDate(value)) return value;
    // The database returns dates as strings; a Date object stands for its UTC day.
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
    throw new TypeError('Date cannot serialise a value that is not a calendar date');
  },
  parseValue: (value) => parseDate(value),
  parseLiteral: (node) => parseDate(node.kind === Kind.STRING ? node.value : undefined, node),
});

function parseInstant(value: unknown, node?: ValueNode): Date {
  const parsed = typeof value === 'string' ? parseDateTime(value) : undefined;
  if (parsed === undefined) throw new ScalarInputError(dateTimeRule, node);
  return parsed;
}

/** Inputs become `Date` objects; outputs are always UTC ISO strings with milliseconds. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in RFC 3339 form with a time zone, e.g. `2026-11-23T10:15:00Z`.',
  specifiedByURL: 'https://www.rfc-editor.org/rfc/rfc3339',
  serialize(value) {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
    const parsed = typeof value === 'string' ? parseDateTime(value) : undefined;
    if (parsed !== undefined) return parsed.toISOString();
    throw new TypeError('DateTime cannot serialise a value that is not a valid instant');
  },
  parseValue: (value) => parseInstant(value),
  parseLiteral: (node) => parseInstant(node.kind === Kind.STRING ? node.value : undefined, node),
});

function parseNhsNumber(value: unknown, node?: ValueNode): string {
  if (typeof value === 'string' && isValidNhsNumber(value)) return value;
  // Say which part is wrong (shape or check digit) without repeating the number itself.
  let detail: string;
  if (typeof value !== 'string') detail = 'expected a string';
  else if (!/^[0-9]{10}$/.test(value)) detail = `expected exactly 10 digits and nothing else, got ${value.length} characters`;
  else detail = 'the check digit does not match';
  throw new ScalarInputError(`NHSNumber value ${nhsNumberRule}: ${detail}`, node);
}

export const NHSNumberScalar = new GraphQLScalarType<string, string>({
  name: 'NHSNumber',
  description: 'An NHS number: 10 digits whose last digit is a valid modulus-11 check digit. Spaces are not accepted.',
  serialize(value) {
    if (typeof value === 'string' && isValidNhsNumber(value)) return value;
    throw new TypeError(`NHSNumber cannot serialise a value that ${nhsNumberRule}`);
  },
  parseValue: (value) => parseNhsNumber(value),
  parseLiteral: (node) => parseNhsNumber(node.kind === Kind.STRING ? node.value : undefined, node),
});

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function jsonOfLiteral(node: ValueNode, variables: Readonly<Record<string, unknown>> | null | undefined): JsonValue {
  switch (node.kind) {
    case Kind.NULL:
      return null;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.STRING:
    case Kind.ENUM:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.LIST:
      return node.values.map((item) => jsonOfLiteral(item, variables));
    case Kind.OBJECT:
      // fromEntries defines own properties, so a `__proto__` key is data, not a prototype change.
      return Object.fromEntries(node.fields.map((field) => [field.name.value, jsonOfLiteral(field.value, variables)]));
    case Kind.VARIABLE: {
      const name = node.name.value;
      const value = variables?.[name];
      if (value === undefined) throw new ScalarInputError(`JSON value refers to variable $${name}, which was not provided`, node);
      return value as JsonValue;
    }
  }
}

/** Any JSON value: object, array, string, number, boolean or null. */
export const JSONScalar = new GraphQLScalarType<JsonValue, JsonValue>({
  name: 'JSON',
  description: 'Any JSON value (used for signed agreement envelopes).',
  serialize: (value) => value as JsonValue,
  parseValue(value) {
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
      throw new ScalarInputError('JSON value must be a JSON object, array, string, number, boolean or null');
    }
    return value as JsonValue;
  },
  parseLiteral: (node, variables) => jsonOfLiteral(node, variables),
});

/** Resolver map entries for the scalars of schema/scalars.graphql. */
export const scalarResolvers = {
  Date: DateScalar,
  DateTime: DateTimeScalar,
  NHSNumber: NHSNumberScalar,
  JSON: JSONScalar,
} as const;
