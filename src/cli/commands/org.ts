import { Option, type Command } from 'commander';
import {
  listOrganisations,
  organisationKinds,
  registerOrganisation,
  replaceOrganisationKeys,
  setOrganisationRateLimit,
  type Organisation,
} from '../../auth/index.js';
import { CliError, exitCodes, type CliContext } from '../context.js';

function keySummary(organisation: Organisation): string {
  const active = organisation.keys.filter((key) => key.retiredAt === undefined).map((key) => key.kid);
  const retired = organisation.keys.filter((key) => key.retiredAt !== undefined).map((key) => key.kid);
  return `active keys: ${active.join(', ') || 'none'}${retired.length > 0 ? `; retired: ${retired.join(', ')}` : ''}`;
}

/** The JSON shape of `org list --json`: public keys only ever, and dates as RFC 3339. */
function toJson(organisation: Organisation) {
  return {
    id: organisation.id,
    name: organisation.name,
    kind: organisation.kind,
    createdAt: organisation.createdAt.toISOString(),
    updatedAt: organisation.updatedAt.toISOString(),
    keys: organisation.keys.map((key) => ({
      kid: key.kid,
      kty: key.jwk.kty,
      alg: key.jwk.alg ?? null,
      crv: key.jwk.crv ?? null,
      status: key.retiredAt === undefined ? 'ACTIVE' : 'RETIRED',
      addedAt: key.addedAt.toISOString(),
      retiredAt: key.retiredAt?.toISOString() ?? null,
    })),
  };
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

/** `accord org add | keys | list`: the partnership's organisations and their public keys. */
export function registerOrgCommands(program: Command, context: CliContext): void {
  const org = program.command('org').description('Register organisations and manage their public keys.');

  org
    .command('add')
    .description('Register an organisation with its public JSON Web Key Set.')
    .requiredOption('--id <id>', 'organisation id, e.g. westminster (the iss of its tokens)')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--kind <kind>', 'kind of organisation').choices(organisationKinds).makeOptionMandatory())
    .requiredOption('--jwks <file>', 'public JWKS file, e.g. from `accord keys generate`')
    .addHelpText(
      'after',
      `
Example:
  $ npx accord org add --id westminster --name "Westminster City Council" --kind COUNCIL --jwks ./keys/westminster-2026.jwks.json`,
    )
    .action(async (options: { id: string; name: string; kind: string; jwks: string }) => {
      const jwks = await context.readJsonFile(options.jwks, 'key set');
      const registered = await context.withDatabase('org add', async ({ db }) =>
        registerOrganisation(db, { id: options.id, name: options.name, kind: options.kind, jwks }),
      );
      context.print(`registered ${registered.id} (${registered.kind}, "${registered.name}"), ${keySummary(registered)}`);
    });

  org
    .command('keys')
    .description("Replace an organisation's key set. Keys left out are retired, not deleted: signatures they made stay verifiable.")
    .requiredOption('--id <id>', 'organisation id')
    .requiredOption('--jwks <file>', 'the new public JWKS file (include a key that should stay active)')
    .addHelpText(
      'after',
      `
Example (rotate to a new key):
  $ npx accord keys generate --alg EdDSA --kid westminster-2027 --out ./keys
  $ npx accord org keys --id westminster --jwks ./keys/westminster-2027.jwks.json`,
    )
    .action(async (options: { id: string; jwks: string }) => {
      const jwks = await context.readJsonFile(options.jwks, 'key set');
      const updated = await context.withDatabase('org keys', async ({ db }) => replaceOrganisationKeys(db, options.id, jwks));
      context.print(`replaced the keys of ${updated.id}, ${keySummary(updated)}`);
    });

  org
    .command('limits')
    .description("Set an organisation's own request rate (token bucket across all hub instances), or go back to the hub's defaults.")
    .requiredOption('--id <id>', 'organisation id')
    .option('--per-second <n>', 'requests per second, sustained', (v) => Number(v))
    .option('--burst <n>', 'requests allowed at once after a quiet spell', (v) => Number(v))
    .option('--default', "clear the organisation's own limits (use ACCORD_RATE_LIMIT_PER_SECOND / _BURST)")
    .addHelpText(
      'after',
      `
Examples:
  $ npx accord org limits --id met-police --per-second 100 --burst 200
  $ npx accord org limits --id met-police --default`,
    )
    .action(async (options: { id: string; perSecond?: number; burst?: number; default?: boolean }) => {
      if (options.default !== true && options.perSecond === undefined && options.burst === undefined) {
        throw new CliError('give --per-second and/or --burst, or --default', exitCodes.usage);
      }
      const limit = options.default === true ? { perSecond: undefined, burst: undefined } : { perSecond: options.perSecond, burst: options.burst };
      await context.withDatabase('org limits', async ({ db }) => setOrganisationRateLimit(db, options.id, limit));
      context.print(
        options.default === true
          ? `${options.id} now uses the hub's default rate limit`
          : `${options.id}: ${limit.perSecond ?? 'default'} requests/s, burst ${limit.burst ?? 'default'} (shared across all hub instances)`,
      );
    });

  org
    .command('list')
    .description('List the registered organisations and their keys.')
    .option('--json', 'print JSON (public key metadata only)')
    .addHelpText(
      'after',
      `
Examples:
  $ npx accord org list
  $ npx accord org list --json | jq -r '.[].id'`,
    )
    .action(async (options: { json?: boolean }) => {
      const organisations = await context.withDatabase('org list', async ({ db }) => listOrganisations(db));
      if (options.json === true) {
        context.printJson(organisations.map(toJson));
        return;
      }
      if (organisations.length === 0) {
        context.print('no organisations registered yet (add one with: npx accord org add --help)');
        return;
      }
      const rows = [['ID', 'KIND', 'NAME', 'KEYS'], ...organisations.map((o) => [o.id, o.kind, o.name, keySummary(o)])];
      for (const line of table(rows)) context.print(line);
    });
}
