/**
 * What the operation limits cost per request: parse + validate of real partner queries with
 * graphql-js's specified rules alone (what Apollo always runs) and with the limit rules added,
 * and the limit rule on its own. Then the worst shapes an authenticated client could send within
 * the token limit, to show what the token limit bounds.
 *
 *   npx tsx bench/limits.ts
 *
 * Apollo Server caches a validated document by query hash (its documentStore), so a partner
 * repeating a query pays parse and validation once; these figures are the first-seen cost.
 */
import { buildSchema, parse, specifiedRules, validate, type DocumentNode, type ValidationRule } from 'graphql';
import { loadSdl } from '../src/graphql/load-sdl.js';
import { createOperationLimits } from '../src/graphql/operation-limits.js';
import { agreementsQuery, dpoAuditPageQuery, fullSubjectQuery, twoSubjectsQuery } from '../test/graphql/fixtures/partner-queries.js';

const schema = buildSchema(loadSdl().join('\n'));
const limits = createOperationLimits({ production: true });

function microsPerOp(run: () => void, minMs = 1_000): number {
  for (let i = 0; i < 200; i += 1) run(); // warm up the JIT
  let n = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 50; i += 1) run();
    n += 50;
    elapsed = performance.now() - started;
  }
  return (elapsed * 1000) / n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Runs the variants in alternation (the machine is shared), returning each one's median µs/op. */
function compare(variants: readonly (() => void)[], rounds = 7): number[] {
  const samples = variants.map(() => [] as number[]);
  for (let round = 0; round < rounds; round += 1) {
    variants.forEach((run, i) => samples[i]?.push(microsPerOp(run, 250)));
  }
  return samples.map(median);
}

const parseAndValidate = (source: string, rules: readonly ValidationRule[]) => () => {
  validate(schema, parse(source, limits.parseOptions), rules);
};
const validateOnly = (document: DocumentNode, rules: readonly ValidationRule[]) => () => {
  validate(schema, document, rules);
};

const rows: Record<string, string>[] = [];
for (const [name, source] of [
  ['full subject', fullSubjectQuery],
  ['two subjects', twoSubjectsQuery],
  ['DPO page of 500', dpoAuditPageQuery],
  ['agreements', agreementsQuery],
] as const) {
  const document = parse(source);
  const [without = 0, withLimits = 0, ruleAlone = 0] = compare([
    parseAndValidate(source, specifiedRules),
    parseAndValidate(source, [...specifiedRules, ...limits.validationRules]),
    validateOnly(document, limits.validationRules),
  ]);
  rows.push({
    query: name,
    'parse+validate µs': without.toFixed(1),
    'with limits µs': withLimits.toFixed(1),
    'limits add µs': (withLimits - without).toFixed(1),
    'validate(limit rule only) µs': ruleAlone.toFixed(1),
  });
}
console.log('Per request, first sight of a document (Apollo caches validated documents):');
console.table(rows);

const times = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join(' ');
/** Repeats `unit` inside `wrap` as often as the token limit allows. */
function fill(unit: (i: number) => string, wrap: (s: string) => string): string {
  let n = 1;
  for (;;) {
    try {
      parse(wrap(times(n + 1, unit)), limits.parseOptions);
      n += 1;
    } catch {
      return wrap(times(n, unit));
    }
  }
}
const worst: Record<string, string> = {
  'same field repeated (root)': fill(() => 'me { subject }', (s) => `{ ${s} }`),
  'same alias repeated (root)': fill(() => 'a: me { subject }', (s) => `{ ${s} }`),
  'same list repeated in a subject': fill(() => 'demographics { id }', (s) => `{ subject(nhsNumber: "9434765919") { ${s} } }`),
  'conflicting arguments': fill((i) => `subject(nhsNumber: "${i % 2}") { nhsNumber }`, (s) => `{ ${s} }`),
  'fragment fan-out 2^40': `{ me { ...F0 } } ${times(40, (i) => `fragment F${i} on Caller { ...F${i + 1} ...F${i + 1} }`)} fragment F40 on Caller { subject }`,
};
const worstRows: Record<string, string>[] = [];
for (const [name, source] of Object.entries(worst)) {
  const document = parse(source, limits.parseOptions);
  const errors = validate(schema, document, [...specifiedRules, ...limits.validationRules]);
  worstRows.push({
    shape: name,
    'ms to refuse or pass': ((compare([parseAndValidate(source, [...specifiedRules, ...limits.validationRules])], 3)[0] ?? 0) / 1000).toFixed(2),
    'validate(limit rule only) ms': ((compare([validateOnly(document, limits.validationRules)], 3)[0] ?? 0) / 1000).toFixed(3),
    outcome: errors.map((e) => limits.errorOf(e)?.message ?? 'other').filter((m, i, all) => all.indexOf(m) === i).join('; ') || 'valid',
  });
}
console.log(`Worst shapes within ${limits.limits.maxTokens} tokens (graphql-js rules included):`);
console.table(worstRows);
