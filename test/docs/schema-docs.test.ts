import fs from 'node:fs';
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { generateSchemaDocs, schemaDocsPath, schemaFromSdl } from '../../src/graphql/generate-schema-docs.js';
import { loadSdl } from '../../src/graphql/load-sdl.js';

const described = (text: string | null | undefined) => typeof text === 'string' && text.trim() !== '';

/**
 * Every element of the SDL without a description, named like `Type.field(arg)`. Written here
 * rather than imported, so the test does not trust the generator to find its own gaps.
 */
function undescribed(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const types = Object.values(schema.getTypeMap()).filter(
    (type: GraphQLNamedType) => !type.name.startsWith('__') && !(isScalarType(type) && isSpecifiedScalarType(type)),
  );
  for (const type of types) {
    if (!described(type.description)) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!described(field.description)) missing.push(`${type.name}.${field.name}`);
        for (const arg of field.args) if (!described(arg.description)) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) if (!described(field.description)) missing.push(`${type.name}.${field.name}`);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) if (!described(value.description)) missing.push(`${type.name}.${value.name}`);
    }
  }
  return missing;
}

describe('docs/schema.md', () => {
  const schema = schemaFromSdl(loadSdl());

  it('is the output of the generator (run `npx tsx scripts/generate-schema-docs.ts` after changing schema/)', () => {
    const current = fs.existsSync(schemaDocsPath) ? fs.readFileSync(schemaDocsPath, 'utf8') : '(missing)';
    // Compared as a boolean first so a failure says what to do rather than dumping 36 KB of diff.
    expect(current === generateSchemaDocs(), 'docs/schema.md is out of date: run npx tsx scripts/generate-schema-docs.ts').toBe(true);
  });

  it('every type, field, argument, input field and enum value in schema/ has a description', () => {
    expect(undescribed(schema)).toEqual([]);
  });

  it('documents every type and every field, argument and enum value by name', () => {
    const docs = generateSchemaDocs();
    const absent: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || (isScalarType(type) && isSpecifiedScalarType(type))) continue;
      const root = type === schema.getQueryType() || type === schema.getMutationType();
      if (!root && !docs.includes(`\n### ${type.name}\n`)) absent.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          const shown = root ? docs.includes(`\n### ${type.name}.${field.name}\n`) : docs.includes(`| \`${field.name}\` |`);
          if (!shown) absent.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) if (!docs.includes(`\`${arg.name}\``)) absent.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isEnumType(type)) for (const value of type.getValues()) if (!docs.includes(`| \`${value.name}\` | ${value.description ?? ''}`)) absent.push(`${type.name}.${value.name}`);
    }
    expect(absent).toEqual([]);
  });

  it('puts queries and mutations first, then record types, then the rest', () => {
    const docs = generateSchemaDocs();
    const order = ['## Queries', '## Mutations', '## Record types', '## Object types', '## Input types', '## Enums', '## Scalars'].map((h) => docs.indexOf(`\n${h}\n`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('states the role and error codes a root field description names', () => {
    const docs = generateSchemaDocs();
    const section = (name: string) => docs.slice(docs.indexOf(`### ${name}\n`), docs.indexOf('\n### ', docs.indexOf(`### ${name}\n`) + 1));
    expect(section('Query.auditEvents')).toContain('**Role required:** `dpo`');
    expect(section('Query.auditEvents')).toContain('[`FORBIDDEN`](#errors) (HTTP 403)');
    expect(section('Query.subject')).toContain('[`AUDIT_UNAVAILABLE`](#errors) (HTTP 503)');
    expect(section('Query.subject')).not.toContain('Role required');
    expect(section('Mutation.submitAgreement')).toContain('[`INVALID_AGREEMENT`](#errors) (HTTP 400)');
  });
});

describe('the description check and the generator on small schemas', () => {
  it.each([
    ['a type', 'type Query { "x" a: Int }', ['Query']],
    ['a field', '"q" type Query { a: Int }', ['Query.a']],
    ['an argument', '"q" type Query { "x" a(n: Int): Int }', ['Query.a(n)']],
    ['an enum value', '"q" type Query { "x" a: E } "e" enum E { "one" ONE TWO }', ['E.TWO']],
    ['an input field', '"q" type Query { "x" a("n" n: I): Int } "i" input I { f: Int }', ['I.f']],
    ['a custom scalar', '"q" type Query { "x" a: S } scalar S', ['S']],
  ])('finds %s without a description', (_, sdl, expected) => {
    expect(undescribed(schemaFromSdl([sdl]))).toEqual(expected);
  });

  it('renders an undescribed element visibly and links named types but not built-in scalars', () => {
    const docs = generateSchemaDocs(['"Reads." type Query { "Needs role `auditor`; `RATE_LIMITED` when busy." thing: Thing! } type Thing { id: ID! }']);
    expect(docs).toContain('**Role required:** `auditor`');
    expect(docs).toContain('[`RATE_LIMITED`](#errors) (HTTP 429)');
    expect(docs).toContain('**Returns:** [`Thing!`](#thing)');
    expect(docs).toContain('### Thing\n\n`type Thing`\n\n_(no description)_');
    expect(docs).toContain('| `id` | `ID!` |  |');
  });
});
