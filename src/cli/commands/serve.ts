import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `accord serve`: run the hub in the foreground until SIGINT or SIGTERM. */
export function registerServeCommands(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description('Run the hub (production mode unless ACCORD_MODE=demo) until stopped with Ctrl-C or SIGTERM.')
    .addHelpText(
      'after',
      `
Examples:
  $ DATABASE_URL=postgres://accord@db.internal/accord PORT=8080 npx accord serve
  $ ACCORD_MODE=demo npx accord serve`,
    )
    .action(async () => {
      const config = context.config({ mode: 'production' });
      // Loaded only here: the other commands must not pay for (or depend on) the whole hub.
      const { runHub } = await import('../../run-hub.js');
      await runHub(config);
    });
}
