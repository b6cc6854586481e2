import { Command } from 'commander';
import { registerAuditCommands } from './commands/audit.js';
import { registerAgreementCommands } from './commands/agreement.js';
import { registerAgreementsCommands } from './commands/agreements.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerDemoCommands } from './commands/demo.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerOrgCommands } from './commands/org.js';
import { registerRequestCommands } from './commands/request.js';
import { registerServeCommands } from './commands/serve.js';
import { registerTokenCommands } from './commands/token.js';
import type { CliContext } from './context.js';

/**
 * Builds the `accord` command (CONTRACT §8).
 *
 * Adding a command group: write `src/cli/commands/<group>.ts` exporting
 * `register<Group>Commands(program: Command, context: CliContext): void` (see org.ts for the
 * pattern: description, options, an `addHelpText('after', ...)` example, an async action that
 * throws on failure), then add one line to the list below. Failures and exit codes are handled
 * once, in index.ts.
 */
export function buildProgram(context: CliContext, version: string): Command {
  const program = new Command('accord')
    .description('Operate an Accord hub: run it, migrate its database, register organisations and their keys, mint caller tokens.')
    .version(version, '-V, --version')
    .configureOutput({ writeOut: context.io.stdout, writeErr: context.io.stderr })
    // Commander would call process.exit; the error comes back to runCli instead, which maps it to exit code 2.
    .exitOverride()
    // The root's own options (-V/--version, -h/--help) only before a command name, so a command
    // may define its own `--version` (agreement revoke-sign --version N) without the root taking it.
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Configuration comes from the environment, as for the hub: DATABASE_URL (PostgreSQL) or
ACCORD_DATA_DIR (embedded database, default ./.accord), ACCORD_HUB_ID, ACCORD_MODE, ...

Exit codes: 0 ok, 1 failed or invalid input, 2 usage error, 3 a check found something to act on.

Example:
  $ npx accord keys generate --alg EdDSA --kid westminster-2026 --out ./keys
  $ npx accord org add --id westminster --name "Westminster City Council" --kind COUNCIL --jwks ./keys/westminster-2026.jwks.json`,
    );

  const groups: ((program: Command, context: CliContext) => void)[] = [
    registerServeCommands,
    registerMigrateCommands,
    registerOrgCommands,
    registerKeysCommands,
    registerTokenCommands,
    registerRequestCommands,
    registerAgreementCommands,
    registerAgreementsCommands,
    registerDemoCommands,
    registerAuditCommands,
    registerBackupCommands,
  ];
  for (const register of groups) register(program, context);
  return program;
}
