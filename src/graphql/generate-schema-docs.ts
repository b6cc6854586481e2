/**
 * docs/schema.md, generated from the SDL descriptions in schema/*.graphql, so the reference a
 * partner reads is the schema the hub serves. `npx tsx scripts/generate-schema-docs.ts` writes it;
 * test/docs/schema-docs.test.ts fails when the file is out of date or an SDL element has no
 * description.
 */
import { fileURLToPath } from 'node:url';
import {
  buildASTSchema,
  concatAST,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  parse,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';
import { httpStatusOf, type ErrorCode } from '../errors.js';
import { loadSdl } from './load-sdl.js';

/** Where the runner writes the generated reference. */
export const schemaDocsPath = fileURLToPath(new URL('../../docs/schema.md', import.meta.url));

/**
 * What each error code means to a partner. A `Record` over the union, so a new code cannot be
 * added to errors.ts without being explained here.
 */
const errorMeanings: Readonly<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'the bearer token is missing, malformed, expired, replayed or does not verify',
  FORBIDDEN: 'the caller lacks the role the operation needs',
  NOT_SHARED: 'no agreement covers this field for this caller and purpose: it is null, the rest of the record is returned',
  BAD_USER_INPUT: 'an argument or input item is invalid, or the request carries no query document (a persisted-query hash is refused); the message (and `extensions.problems`, where given) names every problem',
  INVALID_AGREEMENT: 'an agreement envelope or revocation breaks a rule; the message names the rule',
  QUERY_TOO_COMPLEX: 'the operation is over a depth, cost, alias, root-field, directive, token or body-size limit',
  RATE_LIMITED: "the caller's organisation is over its request rate; retry after `Retry-After` seconds",
  AUDIT_UNAVAILABLE: 'the releases could not be written to the audit trail, so no record data is sent',
  SOURCE_UNAVAILABLE: "a federated partner's source did not answer in time or answered wrongly; its lists are empty with this error (`extensions.org`), the rest of the response is sent",
  SERVICE_UNAVAILABLE: "the hub's own database is unreachable; no data is sent; retry later (the hub serves again as soon as the database is back)",
  INTERNAL_SERVER_ERROR: 'an unexpected failure; the message carries the request id to quote to the operator',
};

const errorCodes = Object.keys(httpStatusOf) as ErrorCode[];

/** Builds the schema from SDL alone (no resolvers): descriptions are all the docs need. */
export function schemaFromSdl(sdl: readonly string[]): GraphQLSchema {
  return buildASTSchema(concatAST(sdl.map((source) => parse(source))));
}

/** GitHub's heading anchor for the headings written here (letters, digits and dots only). */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

/** One line fit for a table cell: newlines folded, pipes escaped. */
function cell(text: string | null | undefined): string {
  return (text ?? '').replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();
}

function describe(text: string | null | undefined): string {
  return text === null || text === undefined || text.trim() === '' ? '_(no description)_' : text.trim();
}

/** A type reference such as `[Demographics!]!`, linked to its named type unless it is built in. */
function typeRef(type: GraphQLType): string {
  const named = getNamedType(type);
  const code = `\`${String(type)}\``;
  return isScalarType(named) && isSpecifiedScalarType(named) ? code : `[${code}](#${anchor(named.name)})`;
}

function argumentList(args: readonly GraphQLArgument[]): string {
  return args
    .map((arg) => {
      const fallback = arg.defaultValue === undefined ? '' : ` (default \`${JSON.stringify(arg.defaultValue)}\`)`;
      return `\`${arg.name}\` ${typeRef(arg.type)}${fallback}: ${cell(arg.description)}`;
    })
    .join('<br>');
}

/** The roles a description says a field needs ("role `dpo`"). */
function rolesOf(text: string): string[] {
  return [...new Set([...text.matchAll(/\brole `([a-z0-9][a-z0-9-]*)`/g)].map((match) => match[1] as string))];
}

/** The error codes a description names (as `CODE`), in the order of errors.ts. */
function errorsOf(text: string): ErrorCode[] {
  return errorCodes.filter((code) => text.includes(`\`${code}\``));
}

function errorLine(codes: readonly ErrorCode[]): string {
  const shown = codes.map((code) => {
    const status = httpStatusOf[code];
    return `[\`${code}\`](#errors) (${status === 200 ? 'beside the data' : `HTTP ${status}`})`;
  });
  return `**Errors:** ${shown.join(', ')}`;
}

function rootField(kind: 'Query' | 'Mutation', field: GraphQLField<unknown, unknown>): string[] {
  const signatureArgs = field.args.map((arg) => `${arg.name}: ${String(arg.type)}`).join(', ');
  const signature = `${field.name}${field.args.length > 0 ? `(${signatureArgs})` : ''}: ${String(field.type)}`;
  const text = [field.description ?? '', ...field.args.map((arg) => arg.description ?? '')].join('\n');
  const lines = [`### ${kind}.${field.name}`, '', '```graphql', signature, '```', '', describe(field.description), ''];
  const roles = rolesOf(text);
  if (roles.length > 0) lines.push(`**Role required:** ${roles.map((role) => `\`${role}\``).join(' or ')}`, '');
  const errors = errorsOf(text);
  if (errors.length > 0) lines.push(errorLine(errors), '');
  if (field.args.length > 0) {
    lines.push('| Argument | Type | Description |', '| --- | --- | --- |');
    for (const arg of field.args) lines.push(`| \`${arg.name}\` | ${typeRef(arg.type)} | ${cell(arg.description)} |`);
    lines.push('');
  }
  lines.push(`**Returns:** ${typeRef(field.type)}`, '');
  return lines;
}

function fieldTable(fields: readonly (GraphQLField<unknown, unknown> | GraphQLInputField)[]): string[] {
  const lines = ['| Field | Type | Description |', '| --- | --- | --- |'];
  for (const field of fields) {
    let text = cell(field.description);
    if ('args' in field && field.args.length > 0) text += `<br>Arguments: ${argumentList(field.args)}`;
    if ('defaultValue' in field && field.defaultValue !== undefined) text += ` (default \`${JSON.stringify(field.defaultValue)}\`)`;
    if (field.deprecationReason !== null && field.deprecationReason !== undefined) text += ` **Deprecated:** ${cell(field.deprecationReason)}`;
    lines.push(`| \`${field.name}\` | ${typeRef(field.type)} | ${text} |`);
  }
  return lines;
}

function namedType(schema: GraphQLSchema, type: GraphQLNamedType): string[] {
  const lines = [`### ${type.name}`, ''];
  if (isObjectType(type) || isInterfaceType(type)) {
    const keyword = isObjectType(type) ? 'type' : 'interface';
    const interfaces = type.getInterfaces().map((i) => i.name);
    lines.push(`\`${keyword} ${type.name}${interfaces.length > 0 ? ` implements ${interfaces.join(' & ')}` : ''}\``, '');
    lines.push(describe(type.description), '');
    if (interfaces.length > 0) lines.push(`Implements ${interfaces.map((name) => `[\`${name}\`](#${anchor(name)})`).join(', ')}.`, '');
    if (isInterfaceType(type)) {
      const implementations = schema.getImplementations(type).objects.map((o) => `[\`${o.name}\`](#${anchor(o.name)})`);
      if (implementations.length > 0) lines.push(`Implemented by ${implementations.join(', ')}.`, '');
    }
    lines.push(...fieldTable(Object.values(type.getFields())), '');
  } else if (isInputObjectType(type)) {
    lines.push(`\`input ${type.name}\``, '', describe(type.description), '', ...fieldTable(Object.values(type.getFields())), '');
  } else if (isEnumType(type)) {
    lines.push(`\`enum ${type.name}\``, '', describe(type.description), '', '| Value | Description |', '| --- | --- |');
    for (const value of type.getValues()) {
      const deprecated = value.deprecationReason === null || value.deprecationReason === undefined ? '' : ` **Deprecated:** ${cell(value.deprecationReason)}`;
      lines.push(`| \`${value.name}\` | ${cell(value.description)}${deprecated} |`);
    }
    lines.push('');
  } else if (isScalarType(type)) {
    lines.push(`\`scalar ${type.name}\``, '', describe(type.description), '');
  } else if (isUnionType(type)) {
    lines.push(`\`union ${type.name} = ${type.getTypes().map((t) => t.name).join(' | ')}\``, '', describe(type.description), '');
  }
  return lines;
}

const byName = (a: GraphQLNamedType, b: GraphQLNamedType) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Subject, the Record interface, then its implementations in the order of the RecordType enum. */
function recordTypesOf(schema: GraphQLSchema): GraphQLNamedType[] {
  const record = schema.getType('Record');
  if (record === undefined || !isInterfaceType(record)) return [];
  const implementations = [...schema.getImplementations(record).objects];
  const recordType = schema.getType('RecordType');
  const order = recordType !== undefined && isEnumType(recordType) ? recordType.getValues().map((v) => v.name) : [];
  const rank = (type: GraphQLNamedType) => (order.includes(type.name) ? order.indexOf(type.name) : order.length);
  implementations.sort((a, b) => rank(a) - rank(b) || byName(a, b));
  const subject = schema.getType('Subject');
  return [...(subject === undefined ? [] : [subject]), record, ...implementations];
}

function contentsLine(types: readonly GraphQLNamedType[]): string {
  return types.map((type) => `[${type.name}](#${anchor(type.name)})`).join(' · ');
}

/**
 * The schema reference as Markdown: queries and mutations first (with the roles and error codes
 * their descriptions name), then the record types, then every other type by kind, each with
 * every field, argument, input field and enum value and its description.
 *
 * @param sdl the SDL sources (default: schema/*.graphql)
 */
export function generateSchemaDocs(sdl: readonly string[] = loadSdl()): string {
  const schema = schemaFromSdl(sdl);
  const roots = [schema.getQueryType(), schema.getMutationType()].filter((t): t is GraphQLObjectType => t !== null && t !== undefined);
  const records = recordTypesOf(schema);
  const taken = new Set<string>([...roots, ...records].map((t) => t.name));
  const rest = Object.values(schema.getTypeMap())
    .filter((type) => !type.name.startsWith('__') && !taken.has(type.name) && !(isScalarType(type) && isSpecifiedScalarType(type)))
    .sort(byName);
  const grouped: [string, GraphQLNamedType[]][] = [
    ['Object types', rest.filter((t) => isObjectType(t))],
    ['Interfaces', rest.filter((t) => isInterfaceType(t))],
    ['Unions', rest.filter((t) => isUnionType(t))],
    ['Input types', rest.filter((t) => isInputObjectType(t))],
    ['Enums', rest.filter((t) => isEnumType(t))],
    ['Scalars', rest.filter((t) => isScalarType(t))],
  ];
  const groups = grouped.filter(([, types]) => types.length > 0);

  const lines: string[] = [
    '<!-- Generated from schema/*.graphql by `npx tsx scripts/generate-schema-docs.ts`. Do not edit by hand: edit the SDL descriptions and regenerate. -->',
    '',
    '# Accord GraphQL schema',
    '',
    'The reference for `POST /graphql` (GraphQL over HTTP). Every request carries',
    '`Authorization: Bearer <token>`, a JWT signed by the calling organisation (see the README and',
    '[security.md](security.md)). What a caller sees of each record is decided field by field by the',
    'signed agreements ([agreements.md](agreements.md)); every release is audited ([audit.md](audit.md)).',
    '',
    '## Contents',
    '',
    '- [Errors](#errors)',
  ];
  for (const root of roots) {
    const label = root === schema.getMutationType() ? 'Mutations' : 'Queries';
    lines.push(`- **${label}:** ${Object.values(root.getFields()).map((f) => `[${f.name}](#${anchor(`${root.name}.${f.name}`)})`).join(' · ')}`);
  }
  lines.push(`- **Record types:** ${contentsLine(records)}`);
  for (const [title, types] of groups) lines.push(`- **${title}:** ${contentsLine(types)}`);
  lines.push(
    '',
    '## Errors',
    '',
    'Every error carries `extensions.code`. A code that fails the whole request sets the HTTP status',
    'shown; `NOT_SHARED` comes beside the data, at the path of each withheld field. No message',
    'reveals data the caller may not see.',
    '',
    '| Code | HTTP status | Meaning |',
    '| --- | --- | --- |',
    ...errorCodes.map((code) => `| \`${code}\` | ${httpStatusOf[code] === 200 ? '200 (partial data)' : httpStatusOf[code]} | ${errorMeanings[code]} |`),
    '',
  );

  for (const root of roots) {
    const kind = root === schema.getMutationType() ? 'Mutation' : 'Query';
    lines.push(`## ${kind === 'Query' ? 'Queries' : 'Mutations'}`, '', describe(root.description), '');
    for (const field of Object.values(root.getFields())) lines.push(...rootField(kind, field));
  }

  lines.push('## Record types', '');
  for (const type of records) lines.push(...namedType(schema, type));

  for (const [title, types] of groups) {
    lines.push(`## ${title}`, '');
    for (const type of types) lines.push(...namedType(schema, type));
  }
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
