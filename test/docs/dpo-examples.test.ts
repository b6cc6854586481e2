/**
 * The GraphQL operations and variables that docs/dpo.md shows a DPO must work against the schema
 * as it is: each operation validates against schema/ and within the production operation limits,
 * and each variables example coerces to the input types it is meant for.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { coerceInputValue, isInputType, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schemaFromSdl } from '../../src/graphql/generate-schema-docs.js';
import { loadSdl } from '../../src/graphql/load-sdl.js';
import { createOperationLimitRules, operationLimitParseOptions } from '../../src/graphql/operation-limits.js';

const doc = fs.readFileSync(fileURLToPath(new URL('../../docs/dpo.md', import.meta.url)), 'utf8');
const blocks = (language: string) =>
  [...doc.matchAll(new RegExp(`^([ \\t]*)\`\`\`${language}\\n([\\s\\S]*?)^\\1\`\`\``, 'gm'))].map((m) =>
    (m[2] ?? '').replace(new RegExp(`^${m[1] ?? ''}`, 'gm'), ''),
  );
const schema = schemaFromSdl(loadSdl());
const operations = blocks('graphql').map((text) => [/^(?:query|mutation) (\w+)/m.exec(text)?.[1] ?? text.slice(0, 40), text] as const);

describe('docs/dpo.md examples', () => {
  it('has the examples this test is about', () => {
    expect(operations.map(([name]) => name)).toEqual(
      expect.arrayContaining(['WhoAmI', 'AuditEventsPage', 'SubjectAccessReport', 'BreakGlassReleases', 'AuditIntegrity', 'AgreementsForReview', 'OneAgreement']),
    );
  });

  it.each(operations)('%s is valid against schema/ and within the production limits', (_, text) => {
    const document = parse(text, operationLimitParseOptions({ production: true }));
    const errors = validate(schema, document, [...specifiedRules, ...createOperationLimitRules({ production: true })]);
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it.each(blocks('json').map((text) => [text.slice(0, 60), text] as const))('variables %s fit the AuditEventsPage operation', (_, text) => {
    const variables = JSON.parse(text) as { filter?: unknown; first?: unknown };
    const filterType = schema.getType('AuditFilter');
    if (filterType === undefined || !isInputType(filterType)) throw new Error('no AuditFilter input type');
    const problems: string[] = [];
    coerceInputValue(variables.filter, filterType, (path, _value, error) => problems.push(`${path.join('.')}: ${error.message}`));
    expect(problems).toEqual([]);
    if (variables.first !== undefined) expect(variables.first).toEqual(expect.any(Number));
    expect(Number(variables.first ?? 50)).toBeLessThanOrEqual(500);
  });
});
