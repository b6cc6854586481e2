/**
 * Micro-benchmark behind one profile finding: graphql-js completes a list of records far more
 * slowly when one field of each record (here `owner`) resolves to a Promise, because every
 * record object then completes asynchronously (promiseForObject). Executes the full-subject
 * query of scenario (b) over 50 in-memory records with `owner` resolved synchronously and
 * through an async function, in alternation.
 *
 *   npx tsx bench/experiments/owner-resolver.ts
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { execute, parse } from 'graphql';
import { loadSdl } from '../../src/graphql/load-sdl.js';
import { scalarResolvers } from '../../src/graphql/scalars.js';
import { recordTypeList } from '../../src/records/index.js';
import { nhsNumbers, richSubjectRecords } from '../lib/generate-records.js';
import { fullSubjectQuery } from '../lib/scenarios.js';

const [nhsNumber] = nhsNumbers(1, 910_000_000) as [string];
const organisation = { id: 'kensington-chelsea', name: 'Kensington and Chelsea', kind: 'COUNCIL' };
const rows = Object.fromEntries(
  recordTypeList.map((info) => [
    info.listName,
    Array.from({ length: richSubjectRecords[info.name].count }, (_, i) => ({
      type: info.name,
      row: {
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        externalId: `x-${i}`,
        recordedAt: new Date(),
        ownerOrg: organisation.id,
        ...Object.fromEntries(info.fields.map((f) => [f.name, f.kind.type === 'int' ? 1 : f.kind.type === 'float' ? 1.5 : f.kind.type === 'boolean' ? true : f.kind.type === 'date' ? '2020-01-01' : f.kind.type === 'enum' ? f.kind.values[0] : 'text'])),
      },
    })),
  ]),
);

function schemaWith(owner: (record: unknown) => unknown) {
  const typeResolvers = Object.fromEntries(
    recordTypeList.map((info) => [
      info.name,
      {
        owner,
        recordType: (r: { type: string }) => r.type,
        sharedUnder: () => [{ id: 'bench-rbkc-children', version: 1 }],
        ...Object.fromEntries(['id', 'externalId', 'recordedAt', ...info.fields.map((f) => f.name)].map((f) => [f, (r: { row: Record<string, unknown> }) => r.row[f] ?? null])),
      },
    ]),
  );
  return makeExecutableSchema({
    typeDefs: loadSdl(),
    resolvers: [
      scalarResolvers,
      {
        Query: { subject: () => ({ nhsNumber }) },
        Subject: { nhsNumber: (s: { nhsNumber: string }) => s.nhsNumber, ...Object.fromEntries(recordTypeList.map((t) => [t.listName, async () => rows[t.listName]])) },
        Record: { __resolveType: (r: { type: string }) => r.type },
        ...typeResolvers,
      },
    ] as never,
  });
}

const document = parse(fullSubjectQuery);
const variants = {
  'owner synchronous': schemaWith(() => organisation),
  'owner async function': schemaWith(async () => organisation),
};

async function microsPerExecution(schema: ReturnType<typeof schemaWith>, ms: number): Promise<number> {
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    const result = await execute({ schema, document, variableValues: { nhsNumber } });
    if (result.errors !== undefined) throw new Error(JSON.stringify(result.errors));
    n += 1;
  }
  return ((performance.now() - started) * 1000) / n;
}

for (const schema of Object.values(variants)) await microsPerExecution(schema, 500);
const samples: Record<string, number[]> = {};
for (let round = 0; round < 5; round += 1) {
  for (const [name, schema] of Object.entries(variants)) (samples[name] ??= []).push(await microsPerExecution(schema, 700));
}
for (const [name, values] of Object.entries(samples)) {
  const sorted = values.sort((a, b) => a - b);
  console.log(`${name.padEnd(22)} ${sorted[2]?.toFixed(0)} µs per execution of the 50-record query (median of 5)`);
}
