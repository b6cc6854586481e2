import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { createAgreementStore, createDecisionIndex, findEmptyRoleLists } from './agreements/index.js';
import { startBackupSocket } from './backup/index.js';
import { createAuditWriter, createCheckpointer, createIncrementalVerifier, hubJwks, listCheckpoints, loadHubSigningKey } from './audit/index.js';
import { createDatabaseReplayGuard, createOrganisationDirectory, createOrganisationKeyStore, isSigningAlgorithm } from './auth/index.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { DatabaseUnavailableError, openDatabase, type Database } from './db/index.js';
import { serviceUnavailableRetryAfterSeconds } from './errors.js';
import { createAuditPlugin } from './graphql/audit-plugin.js';
import { buildSchema } from './graphql/build-schema.js';
import type { RequestContext } from './graphql/context.js';
import { createDocumentStore } from './graphql/document-store.js';
import { createErrorPlugin } from './graphql/error-plugin.js';
import { formatError } from './graphql/format-error.js';
import { createOperationLimits, type OperationLimitOptions } from './graphql/operation-limits.js';
import { createGraphQLHandler } from './http/graphql-handler.js';
import { createInstanceRegistry } from './http/instance-registry.js';
import { Metrics } from './http/metrics.js';
import { createRateLimiter } from './http/rate-limiter.js';
import { sendJson } from './http/respond.js';
import { createHttpServer, type Route } from './http/server.js';
import { createLogger, requestLogLine } from './logger.js';
import { createDpoConsoleRoutes } from './dpo/index.js';
import { createSandboxRoutes, seedDemo } from './sandbox/index.js';
import type { HubServices } from './services.js';

export interface AppDeps {
  /** Use this database instead of opening the configured one (tests). The app does not close it. */
  readonly database?: Database;
  readonly clock?: Clock;
  /** Operation limits over the defaults of operation-limits.ts. */
  readonly limits?: Omit<OperationLimitOptions, 'production'>;
  /** Seed the demo partnership into an empty database (default: in demo mode). */
  readonly seedDemo?: boolean;
}

export interface App {
  readonly services: HubServices;
  /** Starts listening on the configured host and port; resolves with the base URL. */
  start(options?: { port?: number; host?: string }): Promise<{ url: string }>;
  /** Stops: in-flight requests finish, audit flushed, timers stopped, database closed. */
  stop(): Promise<void>;
  /** Prints what `npm start` shows: the URLs and the next step. */
  printBanner(url: string): void;
}

const readyTimeoutMs = 2_000;
const backgroundVerifyIntervalMs = 5 * 60_000;

/**
 * Wires one hub instance together: database (migrated), key store, replay guard, agreement
 * store and decision index, audit writer and checkpoints, GraphQL, HTTP routes.
 */
export async function createApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const clock = deps.clock ?? systemClock;
  const logger = createLogger({ level: config.logLevel });
  const ownsDatabase = deps.database === undefined;
  const database =
    deps.database ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      lockOwner: `accord serve (${config.mode})`,
      onStaleLock: (stale) =>
        logger.warn(
          { lockPath: stale.lockPath, stalePid: stale.pid, staleCommand: stale.command, staleSince: stale.startedAt },
          `recovered the data directory lock left by process ${stale.pid} (${stale.command}, started ${stale.startedAt}), which is no longer running; the database recovers from its write-ahead log`,
        ),
    }));
  try {
    await database.migrate();
    const db = database.db;
    const keys = createOrganisationKeyStore(db);
    const organisations = createOrganisationDirectory(db, keys);
    const hubKey = await loadHubSigningKey({ dataDir: config.dataDir, keyFile: config.hubKeyFile, db, clock });
    const checkpointer = createCheckpointer(db, {
      key: hubKey,
      everyEvents: config.checkpointEveryEvents,
      intervalMs: config.checkpointIntervalMs,
      clock,
    });
    const audit = createAuditWriter(db, {
      clock,
      onCommitted: (seq, hash, count) => checkpointer.notify(seq, hash, count),
      onError: (error) => logger.error({ err: error }, 'audit batch failed'),
    });
    const instances = createInstanceRegistry(db, { clock, onError: (error) => logger.warn({ err: error }, 'instance heartbeat failed') });
    await instances.start();
    // `accord backup` while this hub holds the embedded database: the hub makes it (docs/operator.md §5).
    const stopBackupSocket = ownsDatabase ? await startBackupSocket({ dataDir: config.dataDir, database, clock, logger }) : async () => undefined;
    const services: HubServices = {
      config,
      clock,
      database,
      db,
      logger,
      metrics: new Metrics(),
      keys,
      organisations,
      replay: createDatabaseReplayGuard(db, clock),
      rateLimiter: createRateLimiter({
        clock,
        defaultPerSecond: config.rateLimitPerSecond,
        defaultBurst: config.rateLimitBurst,
        perOrg: (org) => organisations.rateLimitOf(org),
        instanceCount: () => instances.count(),
      }),
      // New agreements and revocations must be signed with keys in force now: a retired key
      // (replaced with `accord org keys`) no longer speaks for its organisation.
      agreements: createAgreementStore(db, { clock, keyFor: (org, kid, alg) => keys.getKey(org, kid, isSigningAlgorithm(alg) ? { alg } : {}) }),
      decisionIndex: createDecisionIndex(db, { clock }),
      audit,
      checkpointer,
      hubKey,
      verifier: createIncrementalVerifier(db),
    };

    // Agreements stored with `roles: []` before that was refused now match no role (fail closed,
    // CONTRACT §3). Said at every start, so the narrower sharing is not mistaken for a fault.
    for (const found of await findEmptyRoleLists(db, clock())) {
      if (!found.actionNeeded) continue;
      logger.warn(
        { agreement: found.id, version: found.version, recipient: found.recipient, status: found.status },
        `agreement ${found.id} version ${found.version} (${found.status}) gives recipient ${found.recipient} an empty roles list, which matches no role: nothing is shared with ${found.recipient} under it until its parties sign a new version (see npx accord agreements check)`,
      );
    }

    if (deps.seedDemo ?? config.mode === 'demo') {
      await seedDemo({ db, dataDir: config.dataDir, clock, audit, log: (message: string) => logger.info(message) });
    }

    const production = config.mode === 'production';
    const limits = createOperationLimits({ ...deps.limits, production });
    const apollo = new ApolloServer<RequestContext>({
      schema: buildSchema(),
      formatError: (formatted, error) => {
        const limit = limits.errorOf(error);
        return limit === undefined ? formatError(formatted, error) : { message: limit.message, extensions: { code: limit.code } };
      },
      includeStacktraceInErrorResponses: false,
      introspection: !production,
      // "Did you mean ...?" suggestions would let a stranger map the schema in production.
      hideSchemaDetailsFromClientErrors: production,
      allowBatchedHttpRequests: false,
      // Automatic persisted queries are off (CONTRACT §5): Apollo's APQ cache is shared by every
      // caller, so one organisation could run, or probe for, a document another sent, knowing
      // only its hash. The HTTP handler refuses the extension before Apollo sees it.
      persistedQueries: false,
      // Documents with literals (an NHS number in the text) are never cached: a shared cache
      // hit is measurable and would tell one caller what another asked (document-store.ts).
      documentStore: createDocumentStore(),
      csrfPrevention: true,
      // The hub owns shutdown (run-hub.ts): Apollo's own SIGINT/SIGTERM handler would call
      // apollo.stop() a second time, which in 5.x never settles, so the writer, checkpointer and
      // database were never closed and the process lingered until killed.
      stopOnTerminationSignals: false,
      parseOptions: limits.parseOptions,
      validationRules: limits.validationRules,
      // No cache hints: every response is `cache-control: no-store` (personal data, audited per
      // release), and Apollo's default cache-control plugin costs a hook on every field resolved.
      plugins: [createErrorPlugin(), createAuditPlugin(), ApolloServerPluginCacheControlDisabled()],
    });
    await apollo.start();

    const graphql = createGraphQLHandler({ apollo, services, maxBodyBytes: limits.maxBodyBytes });
    const sandbox = createSandboxRoutes({ mode: config.mode, dataDir: config.dataDir, db, hubId: config.hubId, clock });
    const dpoConsole = createDpoConsoleRoutes();
    const path = (req: IncomingMessage) => new URL(req.url ?? '/', 'http://localhost').pathname;

    const routes: Route[] = [
      async (req, res) => {
        if (req.method !== 'GET' && req.method !== 'HEAD') return false;
        switch (path(req)) {
          case '/healthz':
            sendJson(res, 200, { status: 'ok' });
            return true;
          case '/readyz':
            await readiness(database, res, logger);
            return true;
          case '/metrics':
            res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
            res.end(services.metrics.render({ accord_hub_instances: { help: 'Live hub instances on this database', value: instances.count() } }));
            return true;
          case '/audit/checkpoints': {
            const url = new URL(req.url ?? '/', 'http://localhost');
            const after = Number(url.searchParams.get('after') ?? '0');
            sendJson(res, 200, { checkpoints: await listCheckpoints(db, { after: Number.isFinite(after) ? after : 0, limit: 1000 }) });
            return true;
          }
          case '/.well-known/jwks.json':
            sendJson(res, 200, await hubJwks(db), { 'cache-control': 'public, max-age=300' });
            return true;
          default:
            return false;
        }
      },
      (req, res) => sandbox.handle(req, res),
      (req, res) => dpoConsole.handle(req, res),
      async (req, res, requestId) => {
        if (path(req) !== '/graphql') return false;
        const started = performance.now();
        const result = await graphql(req, res, requestId);
        const durationMs = performance.now() - started;
        services.metrics.observeRequestSeconds(durationMs / 1000);
        services.metrics.inc('accord_graphql_requests_total', 'GraphQL requests by outcome', { status: String(res.statusCode) });
        logger.info(requestLogLine({ requestId, org: result.org, operationName: result.operationName, durationMs, outcome: result.outcome, status: res.statusCode }));
        return true;
      },
    ];
    const server = createHttpServer(services, routes);

    // Keep the chain verified in the background, so `auditIntegrity` only ever checks new events.
    const verifyInBackground = () =>
      void services.verifier.verify().then(
        (result) => {
          if (result.firstBad !== undefined) logger.error({ firstBad: result.firstBad }, 'audit chain verification FAILED');
        },
        (error: unknown) => logger.warn({ err: error }, 'background audit verification could not run'),
      );
    const verifyTimer = setInterval(verifyInBackground, backgroundVerifyIntervalMs);
    verifyTimer.unref();

    let stopped = false;
    return {
      services,
      async start(options = {}) {
        const url = await server.listen(options.port ?? config.port, options.host ?? config.host);
        verifyInBackground();
        return { url };
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        clearInterval(verifyTimer);
        await server.close();
        await apollo.stop();
        await instances.stop();
        await stopBackupSocket();
        await audit.close();
        await checkpointer.stop();
        if (ownsDatabase) await database.close();
      },
      printBanner(url) {
        const lines = [
          '',
          `Accord hub (${config.mode} mode, ${database.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'})`,
          `  GraphQL      ${url}/graphql`,
          ...(production ? [] : [`  Sandbox      ${url}/sandbox   <- start here: pick a persona and run the example queries`]),
          `  DPO console  ${url}/dpo`,
          `  Health       ${url}/healthz  ${url}/readyz  ${url}/metrics`,
          '',
          'Next: register your own organisation and mint a token:',
          '  npx accord keys generate --alg EdDSA --kid my-key-1 --out ./keys',
          '  npx accord org add --id my-council --name "My Council" --kind COUNCIL --jwks ./keys/my-key-1.jwks.json',
          '  (stop the hub first when it runs on the embedded database: only one process may open it)',
          '',
        ];
        console.log(lines.join('\n'));
      },
    };
  } catch (error) {
    if (ownsDatabase) await database.close().catch(() => undefined);
    throw error;
  }
}

async function readiness(database: Database, res: ServerResponse, logger: HubServices['logger']): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      database.ready(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new DatabaseUnavailableError(`the database did not answer within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      }),
    ]);
    sendJson(res, 200, { status: 'ready' });
  } catch (error) {
    // The reason goes to the log only: /readyz is open to anyone who can reach the port, and a
    // driver message can quote SQL, a host name or a user.
    logger.warn({ err: error }, 'not ready');
    sendJson(res, 503, { status: 'unavailable' }, { 'retry-after': String(serviceUnavailableRetryAfterSeconds) });
  } finally {
    clearTimeout(timer);
  }
}
