/**
 * Two sides of `npm run bench`, from one piece of code:
 *
 * - **baseline** (`createBaselineServer(options)`): a bare Apollo Server 5 over the same SDL
 *   (schema/*.graphql), the same PostgreSQL tables and the same batched loaders
 *   (`createRecordLoaders` with a filter that lets every row through), served over node:http the
 *   same way the hub is. No authentication, no decisions, no audit, no rate limit, no logging:
 *   the physical limit of this stack, against which the hub's overhead is measured.
 * - **peer** (`options.peer` set): what a team would hand-roll in a week on top of that same
 *   server: every request must carry a bearer JWT, verified with `jose`'s `jwtVerify` against
 *   the organisations' registered public keys (the `organisation_keys` table, read once at start:
 *   no rotation), pinned to EdDSA, checking signature, `exp`, `iat`, `aud` (the hub id) and `iss`
 *   (the organisation whose keys verified it); then ONE plain autocommitted INSERT into
 *   `peer_audit` per request (who, which operation, how many records), awaited before the answer
 *   is sent. No replay guard, no hash chain, no agreements, no field enforcement, no rate limit.
 *   It accepts exactly the tokens the load generator mints for the hub.
 */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { isNull, sql } from 'drizzle-orm';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../src/clock.js';
import { tables, type Db } from '../../src/db/index.js';
import { loadSdl } from '../../src/graphql/load-sdl.js';
import { scalarResolvers } from '../../src/graphql/scalars.js';
import { createRecordLoaders, publishRecords, recordTypeList, type RecordLoaders, type RecordRow, type RecordType } from '../../src/records/index.js';

interface BaselineContext {
  readonly loaders: RecordLoaders;
  /** Records returned or published by this request (the peer's audit row records it). */
  records: number;
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
  /** Makes this the hand-rolled peer: JWT verification and one audit INSERT per request. */
  readonly peer?: PeerOptions;
}

export interface PeerOptions {
  /** The expected `aud` of every token (the hub's id, so the hub's tokens are accepted as they are). */
  readonly hubId: string;
}

export interface BaselineServer {
  start(port: number, host: string): Promise<string>;
  stop(): Promise<void>;
}

const everythingVisible = () => sql`true`;

/** The peer's audit table: one row per request, nothing chained. */
export const peerAuditTable = 'peer_audit';

/** One algorithm, as a team would pin it (the bench's organisation keys are Ed25519). */
const peerAlgorithms = ['EdDSA'];
/** Tolerance for clocks that disagree, as a normal jwtVerify set-up would allow (same as the hub's). */
const peerClockToleranceSeconds = 30;

interface PeerCaller {
  readonly org: string;
  readonly sub: string;
}

/** The active public keys of every registered organisation, one jose key set per organisation. */
async function loadPeerKeySets(db: Db): Promise<Map<string, JWTVerifyGetKey>> {
  const rows = await db
    .select({ org: tables.organisationKeys.orgId, jwk: tables.organisationKeys.jwk })
    .from(tables.organisationKeys)
    .where(isNull(tables.organisationKeys.retiredAt));
  const byOrg = new Map<string, JWK[]>();
  for (const row of rows) byOrg.set(row.org, [...(byOrg.get(row.org) ?? []), row.jwk as JWK]);
  return new Map([...byOrg].map(([org, keys]) => [org, createLocalJWKSet({ keys })]));
}

/** The caller of a `Bearer` token, or undefined when it is missing or does not verify. */
async function authenticate(authorization: string | undefined, keySets: ReadonlyMap<string, JWTVerifyGetKey>, hubId: string): Promise<PeerCaller | undefined> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (token === undefined) return undefined;
  try {
    // `iss` (unverified) only chooses whose keys to try; the signature then proves it.
    const iss = decodeJwt(token).iss;
    const keys = iss === undefined ? undefined : keySets.get(iss);
    if (iss === undefined || keys === undefined) return undefined;
    const { payload } = await jwtVerify(token, keys, {
      algorithms: peerAlgorithms,
      issuer: iss,
      audience: hubId,
      requiredClaims: ['iss', 'sub', 'aud', 'iat', 'exp'],
      clockTolerance: peerClockToleranceSeconds,
    });
    return { org: iss, sub: payload.sub as string };
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function createBaselineServer(options: BaselineServerOptions): Promise<BaselineServer> {
  const { db, clock, publisher, peer } = options;
  const keySets = peer === undefined ? undefined : await loadPeerKeySets(db);
  if (peer !== undefined) {
    await db.execute(
      sql.raw(
        `create table if not exists ${peerAuditTable} (id bigserial primary key, at timestamptz not null default now(), ` +
          'org text not null, sub text not null, operation text not null, records integer not null)',
      ),
    );
  }
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
      async (subject: { nhsNumber: string }, _: unknown, context: BaselineContext): Promise<BaselineRecord[]> => {
        const rows = await context.loaders.bySubject(info.name).load(subject.nhsNumber);
        context.records += rows.length;
        return rows.map((row) => ({ type: info.name, row }));
      },
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
          publishRecords: async (_: unknown, args: { input: Record<string, unknown> }, context: BaselineContext) => {
            const outcome = await publishRecords(db, { owner: publisher, input: args.input, clock });
            context.records += outcome.count;
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
      let caller: PeerCaller | undefined;
      if (peer !== undefined) {
        caller = await authenticate(req.headers.authorization, keySets as ReadonlyMap<string, JWTVerifyGetKey>, peer.hubId);
        if (caller === undefined) {
          req.resume();
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
          res.end(JSON.stringify({ errors: [{ message: 'unauthenticated', extensions: { code: 'UNAUTHENTICATED' } }] }));
          return;
        }
      }
      const raw = req.method === 'POST' ? await readBody(req) : '';
      const body: unknown = raw === '' ? undefined : JSON.parse(raw);
      const context: BaselineContext = { loaders: createRecordLoaders(db, { filter: everythingVisible }), records: 0 };
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => context,
      });
      if (caller !== undefined) {
        const named = (body as { operationName?: unknown } | undefined)?.operationName;
        const operation = typeof named === 'string' && named !== '' ? named : 'anonymous';
        await db.execute(
          sql`insert into ${sql.identifier(peerAuditTable)} (org, sub, operation, records) values (${caller.org}, ${caller.sub}, ${operation}, ${context.records})`,
        );
      }
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
