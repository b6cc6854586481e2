/**
 * Starts a real hub for a test: a fresh database (PGlite, or PostgreSQL in the postgres
 * project), migrations applied, listening on a free loopback port, spoken to over real HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type Mode } from '../../src/config.js';
import type { Database } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface GraphQLResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
  /** The raw response text, for asserting what never appears in it. */
  readonly text: string;
}

export interface TestHub {
  readonly app: App;
  readonly url: string;
  readonly database: TestDatabase;
  readonly dataDir: string;
  /** POST /graphql with a bearer token. */
  gql(token: string | undefined, query: string, variables?: Record<string, unknown>, init?: { headers?: Record<string, string> }): Promise<GraphQLResponse>;
  /** A second hub instance on the same database (PostgreSQL: its own pool; PGlite: the same handle). */
  startSecondInstance(): Promise<{ app: App; url: string; gql: TestHub['gql'] }>;
  stop(): Promise<void>;
}

export interface TestHubOptions extends Omit<AppDeps, 'database'> {
  readonly mode?: Mode;
  readonly clock?: Clock;
  readonly env?: Record<string, string>;
  readonly database?: TestDatabase;
}

function client(url: string): TestHub['gql'] {
  return async (token, query, variables, init = {}) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...init.headers,
      },
      body: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }) }),
    });
    const text = await response.text();
    let body: GraphQLResponse['body'];
    try {
      body = JSON.parse(text) as GraphQLResponse['body'];
    } catch {
      body = {};
    }
    return { status: response.status, headers: response.headers, body, text };
  };
}

export async function startTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  const database = options.database ?? (await createTestDatabase());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-test-'));
  const config = loadConfig({ ACCORD_MODE: options.mode ?? 'production', LOG_LEVEL: 'silent', ACCORD_DATA_DIR: dataDir, ...options.env });
  const deps = { ...options, seedDemo: options.seedDemo ?? false };
  const app = await createApp(config, { ...deps, database });
  const { url } = await app.start({ port: 0, host: '127.0.0.1' });
  const extra: { app: App; db?: Database }[] = [];
  return {
    app,
    url,
    database,
    dataDir,
    gql: client(url),
    async startSecondInstance() {
      const db = await database.reopen();
      const second = await createApp(config, { ...deps, database: db });
      const started = await second.start({ port: 0, host: '127.0.0.1' });
      extra.push({ app: second, ...(db.db === database.db ? {} : { db }) });
      return { app: second, url: started.url, gql: client(started.url) };
    },
    async stop() {
      for (const { app: other, db } of extra) {
        await other.stop();
        await db?.close();
      }
      await app.stop();
      if (options.database === undefined) await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
