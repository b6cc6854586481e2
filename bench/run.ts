/**
 * `npm run bench -- [options]` (never part of `npm test`): see `--help` and docs/performance.md.
 *
 * Creates its own database on the PostgreSQL server of DATABASE_URL and drops it at the end,
 * also on Ctrl-C or a failure.
 */
import type { BenchDatabase } from './lib/bench-database.js';
import { parseOptions, usage } from './lib/options.js';
import { log } from './lib/progress.js';
import { killServers } from './lib/servers.js';

let options;
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  console.error(usage);
  process.exit(2);
}
if (options === 'help') {
  console.log(usage);
  process.exit(0);
}

let bench: BenchDatabase | undefined;
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    killServers();
    if (bench !== undefined) {
      await bench.drop().catch((error: unknown) => log(`could not drop ${bench?.name}: ${String(error)}`));
      log(`database ${bench.name} dropped`);
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping the servers and dropping the bench database`);
    void cleanUp().finally(() => process.exit(130));
  });
}

const onDatabase = (created: BenchDatabase) => {
  bench = created;
};
try {
  switch (options.mode) {
    case 'compare':
      await (await import('./compare.js')).compare(options, onDatabase);
      break;
    case 'scale':
      await (await import('./scale.js')).scale(options, onDatabase);
      break;
    case 'profile':
      await (await import('./profile.js')).profile(options, onDatabase);
      break;
    case 'soak':
      await (await import('./soak.js')).soak(options, onDatabase);
      break;
    case 'instances':
      await (await import('./instances.js')).instances(options, onDatabase);
      break;
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
