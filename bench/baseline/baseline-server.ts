/**
 * The baseline of `npm run bench`: a bare Apollo Server 5 over the same SDL (schema/*.graphql),
 * the same PostgreSQL tables and the same batched loaders (`createRecordLoaders` with a filter
 * that lets every row through), served over node:http the same way the hub is. No
 * authentication, no decisions, no audit, no rate limit, no logging: the physical limit of this
 * stack, against which the hub's overhead is measured.
 */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { sql } from 'drizzle-orm';
import type { Clock } from '../../src/clock.js';
import { tables, type Db } from '../../src/db/index.js';
import { loadSdl } from '../../src/graphql/load-sdl.js';
import { scalarResolvers } from '../../src/graphql/scalars.js';
import { createRecordLoaders, publishRecords, recordTypeList, type RecordLoaders, type RecordRow, type RecordType } from '../../src/records/index.js';

interface BaselineContext {
  readonly loaders: RecordLoaders;
}

interface BaselineRecord {
  readonly type: RecordType;
  readonly row: RecordRow;
}

export interface BaselineServerOptions {
  readonly db: Db;
  readonly clock: Clock;
  /** The organisation that owns what `publishRecords` writes (the baseline has no caller). */
  readonly publisher: string;
}

export interface BaselineServer {
  start(port: number, host: string): Promise<string>;
  stop(): Promise<void>;
}

const everythingVisible = () => sql`true`;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function createBaselineServer(options: BaselineServerOptions): Promise<BaselineServer> {
  const { db, clock, publisher } = options;
  // Organisations are reference data: loaded once, as the hub's directory caches them.
  const organisations = new Map(
    (await db.select({ id: tables.organisations.id, name: tables.organisations.name, kind: tables.organisations.kind }).from(tables.organisations)).map(
      (org) => [org.id, org],
    ),
  );

  const recordFields = {
    owner: (record: BaselineRecord) => organisations.get(record.row.ownerOrg) ?? { id: record.row.ownerOrg, name: record.row.ownerOrg, kind: 'OTHER' },
    recordType: (record: BaselineRecord) => record.type,
    sharedUnder: () => [],
  };
  const typeResolvers = Object.fromEntries(
    recordTypeList.map((info) => [
      info.name,
      {
        ...recordFields,
        ...Object.fromEntries(
          ['id', 'externalId', 'recordedAt', ...info.fields.map((f) => f.name)].map((field) => [field, (record: BaselineRecord) => record.row[field] ?? null]),
        ),
      },
    ]),
  );
  const subjectLists = Object.fromEntries(
    recordTypeList.map((info) => [
      info.listName,
      async (subject: { nhsNumber: string }, _: unknown, context: BaselineContext): Promise<BaselineRecord[]> =>
        (await context.loaders.bySubject(info.name).load(subject.nhsNumber)).map((row) => ({ type: info.name, row })),
    ]),
  );

  const schema = makeExecutableSchema({
    typeDefs: loadSdl(),
    resolvers: [
      scalarResolvers,
      {
        Query: { subject: (_: unknown, args: { nhsNumber: string }) => ({ nhsNumber: args.nhsNumber }) },
        Subject: { nhsNumber: (subject: { nhsNumber: string }) => subject.nhsNumber, ...subjectLists },
        Record: { __resolveType: (record: BaselineRecord) => record.type },
        Mutation: {
          publishRecords: async (_: unknown, args: { input: Record<string, unknown> }) => {
            const outcome = await publishRecords(db, { owner: publisher, input: args.input, clock });
            return { count: outcome.count, byType: outcome.byType };
          },
        },
        ...typeResolvers,
      },
    ] as never,
  });

  const apollo = new ApolloServer<BaselineContext>({ schema, allowBatchedHttpRequests: false });
  await apollo.start();

  const server = http.createServer(async (req, res) => {
    try {
      const raw = req.method === 'POST' ? await readBody(req) : '';
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: raw === '' ? undefined : JSON.parse(raw) },
        context: async () => ({ loaders: createRecordLoaders(db, { filter: everythingVisible }) }),
      });
      const outHeaders: Record<string, string> = { 'cache-control': 'no-store' };
      for (const [key, value] of response.headers) outHeaders[key] = value;
      res.writeHead(response.status ?? 200, outHeaders);
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
      } else {
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: error instanceof Error ? error.message : 'internal error' }] }));
    }
  });
  server.keepAliveTimeout = 5_000;

  return {
    start: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          resolve(`http://${address.address}:${address.port}`);
        });
      }),
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await apollo.stop();
    },
  };
}
