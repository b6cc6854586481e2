import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `accord migrate`: apply the database migrations in drizzle/. */
export function registerMigrateCommands(program: Command, context: CliContext): void {
  program
    .command('migrate')
    .description('Apply every pending database migration (safe to repeat; the hub also migrates at start).')
    .addHelpText(
      'after',
      `
Examples:
  $ npx accord migrate
  $ DATABASE_URL=postgres://accord@db.internal/accord npx accord migrate`,
    )
    .action(async () => {
      await context.withDatabase(
        'migrate',
        async (database, config) => {
          await database.migrate();
          await database.ready();
          // Never print DATABASE_URL: it may carry a password.
          context.print(`database migrated (${database.kind === 'pglite' ? `embedded, ${config.dataDir}` : 'PostgreSQL'})`);
        },
        { migrate: false },
      );
    });
}
