import type { Command } from 'commander';
import { findEmptyRoleLists, type EmptyRoleList } from '../../agreements/index.js';
import { systemClock } from '../../clock.js';
import { CliError, type CliContext } from '../context.js';

/** Exit code when a check finds something the partnership must act on (as `agreements due`, CONTRACT §8). */
export const attentionExitCode = 3;

const whatToDo =
  'What the parties must do: agree and sign a new version (a higher "version", every party signing again) whose recipient entry ' +
  'lists the roles that may see the data, e.g. "roles": ["social-worker"], or leaves "roles" out when any role of that ' +
  'organisation may; then submit it with submitAgreement. An empty list is now refused on submission.';

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

function describe(found: readonly EmptyRoleList[]): string[] {
  const rows = [
    ['AGREEMENT', 'VERSION', 'STATUS', 'PROVIDER', 'RECIPIENT', 'ACTION'],
    ...found.map((f) => [f.id, String(f.version), f.status, f.provider, f.recipient, f.actionNeeded ? 'sign a new version' : 'none (the version has ended)']),
  ];
  return table(rows);
}

/** `accord agreements check`: stored agreements the hub's rules now read differently. */
export function registerAgreementsCommands(program: Command, context: CliContext): void {
  const agreements = program.command('agreements').description("Checks over the hub's stored agreements.");

  agreements
    .command('check')
    .description(
      'List stored agreement versions whose recipient entry has an empty roles list. Earlier hubs read [] as "any role"; ' +
        'the hub now reads it as no role (nothing is shared with that recipient) until the parties sign a new version. ' +
        'Exit 3 when an ACTIVE or PENDING version is affected.',
    )
    .option('--json', 'print the findings as JSON')
    .addHelpText(
      'after',
      `
Example:
  $ npx accord agreements check
  $ npx accord agreements check --json   # for monitoring: exit 3 means the partnership must act`,
    )
    .action(async (options: { json?: boolean }) => {
      const found = await context.withDatabase('agreements check', async ({ db }) => findEmptyRoleLists(db, systemClock()));
      const needingAction = found.filter((f) => f.actionNeeded).length;
      if (options.json === true) {
        context.printJson({ emptyRoleLists: found, actionNeeded: needingAction, whatToDo: found.length === 0 ? null : whatToDo });
      } else if (found.length === 0) {
        context.print('no stored agreement gives a recipient an empty roles list');
      } else {
        context.print(
          `${found.length} stored agreement version${found.length === 1 ? '' : 's'} give${found.length === 1 ? 's' : ''} a recipient an empty roles list. ` +
            'The hub reads it as matching no role: nothing is shared with that recipient under it.',
        );
        for (const line of describe(found)) context.print(`  ${line}`);
        context.print(whatToDo);
      }
      if (needingAction > 0) {
        throw new CliError(`${needingAction} agreement version${needingAction === 1 ? '' : 's'} in force or pending must be replaced by a new version (see above)`, attentionExitCode);
      }
    });
}
