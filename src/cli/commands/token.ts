import { InvalidArgumentError, type Command } from 'commander';
import type { JWK } from 'jose';
import { organisationIdPattern, signCallerToken, tokenMaxLifetimeSeconds } from '../../auth/index.js';
import { systemClock } from '../../clock.js';
import { CliError, type CliContext } from '../context.js';

function parseTtl(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > tokenMaxLifetimeSeconds) {
    throw new InvalidArgumentError(`must be a whole number of seconds from 1 to ${tokenMaxLifetimeSeconds}`);
  }
  return seconds;
}

function parseRoles(value: string): string[] {
  return value
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role !== '');
}

/** `accord token`: mint a caller token with an organisation's private key. */
export function registerTokenCommands(program: Command, context: CliContext): void {
  program
    .command('token')
    .description(
      `Print a caller token (a JWT signed with the organisation's private key, valid at most ${tokenMaxLifetimeSeconds} s) on stdout, and nothing else. ` +
        'Works offline: the hub is not contacted and its database is not opened.',
    )
    .requiredOption('--org <id>', 'the organisation (iss)')
    .requiredOption('--key <file>', "the organisation's private JWK file")
    .requiredOption('--sub <sub>', 'the person or system acting (kept in the audit trail)')
    .requiredOption('--purpose <code>', 'the purpose code of the request')
    .option('--roles <a,b>', 'comma-separated role codes (default: none)', parseRoles)
    .option('--ttl <seconds>', `lifetime in seconds, at most ${tokenMaxLifetimeSeconds}`, parseTtl, tokenMaxLifetimeSeconds)
    .option('--case-ref <ref>', 'the case that justifies the access')
    .option('--break-glass <reason>', 'break-glass reason (at least 20 characters); every release is audited as BREAK_GLASS')
    .addHelpText(
      'after',
      `
The audience is the hub id (ACCORD_HUB_ID, default accord-hub).

Examples:
  $ TOKEN=$(npx accord token --org westminster --key ./keys/westminster-2026.private.jwk.json \\
      --sub jo.bloggs@westminster.gov.uk --purpose safeguarding-children --roles social-worker)
  $ curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
      -d '{"query":"{ me { subject roles } }"}' http://127.0.0.1:4000/graphql`,
    )
    .action(
      async (options: { org: string; key: string; sub: string; purpose: string; roles?: string[]; ttl: number; caseRef?: string; breakGlass?: string }) => {
        if (!organisationIdPattern.test(options.org)) throw new CliError(`--org "${options.org}" is not an organisation id (2-63 lower-case letters, digits or hyphens)`);
        const privateJwk = await context.readJsonFile(options.key, 'private key');
        if (typeof privateJwk !== 'object' || privateJwk === null || Array.isArray(privateJwk)) throw new CliError(`the private key ${options.key} is not a JWK object`);
        if ('keys' in privateJwk) throw new CliError(`${options.key} is a public key set: pass the organisation's .private.jwk.json file`);
        const config = context.config();
        const token = await signCallerToken({
          org: options.org,
          privateJwk: privateJwk as JWK,
          sub: options.sub,
          purpose: options.purpose,
          roles: options.roles ?? [],
          ttlSeconds: options.ttl,
          caseRef: options.caseRef,
          breakGlass: options.breakGlass,
          hubId: config.hubId,
          clock: systemClock,
        });
        context.print(token);
      },
    );
}
