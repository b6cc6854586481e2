import type { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { createAuditWriter } from '../../audit/index.js';
import { systemClock } from '../../clock.js';
import { acquireDataDirLock, rowsOf, type Db } from '../../db/index.js';
import { emptyDatabase, removeEmbeddedDatabase, seedDemo, type SeedDemoResult } from '../../sandbox/index.js';
import { CliError, type CliContext } from '../context.js';

/**
 * A hub instance that heartbeated this recently is taken to be running (instances heartbeat
 * every 5 s and count as live for three heartbeats; this leaves a margin).
 */
const liveHubWindowMs = 60_000;

async function assertNoLiveHub(db: Db): Promise<void> {
  const since = new Date(systemClock().getTime() - liveHubWindowMs).toISOString();
  const rows = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from hub_instances where last_seen_at > ${since}::timestamptz`));
  const live = Number(rows[0]?.n ?? 0);
  if (live > 0) {
    throw new CliError(`refusing to reset: ${live} hub instance(s) on this database sent a heartbeat in the last minute. Stop every hub first.`);
  }
}

async function seed(db: Db, dataDir: string): Promise<SeedDemoResult> {
  const clock = systemClock;
  const audit = createAuditWriter(db, { clock });
  try {
    return await seedDemo({ db, dataDir, clock, audit });
  } finally {
    await audit.close();
  }
}

/** `accord demo reset`: start the demo partnership again from nothing. */
export function registerDemoCommands(program: Command, context: CliContext): void {
  const demo = program.command('demo').description('The demo partnership that `npm start` seeds (synthetic data only).');

  demo
    .command('reset')
    .description(
      'Delete the database and seed the demo partnership again: new keys, agreements, records and an empty audit trail. ' +
        'Refuses while a hub holds the data directory; on PostgreSQL (DATABASE_URL) it empties that database and needs --yes.',
    )
    .option('--yes', 'confirm emptying the PostgreSQL database at DATABASE_URL (every organisation, agreement, record and audit event in it)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ npx accord demo reset                              # the embedded database in ./.accord (stop npm start first)
  $ ACCORD_DATA_DIR=/tmp/accord npx accord demo reset --json
  $ DATABASE_URL=postgres://localhost/accord_demo npx accord demo reset --yes

Exit codes: 0 reset and seeded, 1 refused or failed, 2 usage error.`,
    )
    .action(async (options: { yes?: boolean; json?: boolean }) => {
      const config = context.config({ mode: 'demo' });
      let result: SeedDemoResult;
      if (config.databaseUrl !== undefined) {
        if (options.yes !== true) {
          throw new CliError(
            'refusing to empty the PostgreSQL database at DATABASE_URL without --yes: a reset deletes every organisation, agreement, record and audit event in it',
          );
        }
        result = await context.withDatabase('demo reset', async ({ db }) => {
          await assertNoLiveHub(db);
          await emptyDatabase(db);
          return await seed(db, config.dataDir);
        });
      } else {
        // Taking the lock proves no hub (or other command) has the embedded database open: a
        // running hub would keep writing to files deleted under it.
        const lock = acquireDataDirLock(config.dataDir, 'accord demo reset');
        try {
          await removeEmbeddedDatabase(config.dataDir);
        } finally {
          lock.release();
        }
        result = await context.withDatabase('demo reset', async ({ db }) => await seed(db, config.dataDir));
      }
      if (!result.seeded) throw new CliError('the database still held organisations after the reset, so the demo was not seeded');
      if (options.json === true) {
        context.printJson(result);
        return;
      }
      context.print(
        `demo partnership reset: ${result.organisations} organisations, ${result.agreements} agreements, ${result.people} synthetic people, ` +
          `${result.records} records (${result.durationMs} ms). Start the hub with npm start and open /sandbox.`,
      );
    });
}
