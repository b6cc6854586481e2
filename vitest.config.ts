import { defineConfig } from 'vitest/config';

/**
 * Two projects: every test runs on the embedded PGlite database; when DATABASE_URL is set, the
 * tests that touch a database (test/integration, test/security, *.db.test.ts) run again on
 * PostgreSQL, each test file in its own database created for this run and dropped afterwards.
 */
const onPostgres = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '';
const dbTests = ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts', 'test/**/*.db.test.ts'];

export default defineConfig({
  // Node resolves `graphql` to its CommonJS build (graphql 16 has no "exports" map) for Apollo
  // and @graphql-tools, while Vite would pick the ESM build for our code: two copies, and
  // "Cannot use GraphQLSchema from another module or realm". One build for everyone.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'pglite', include: ['test/**/*.test.ts'], env: { ACCORD_TEST_DB: 'pglite' } },
      },
      ...(onPostgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: dbTests,
                env: { ACCORD_TEST_DB: 'postgres' },
                globalSetup: ['test/helpers/postgres-global-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
