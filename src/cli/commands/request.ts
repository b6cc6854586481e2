import fs from 'node:fs/promises';
import type { Command } from 'commander';
import type { JWK } from 'jose';
import { organisationIdPattern, signCallerToken } from '../../auth/index.js';
import { systemClock } from '../../clock.js';
import { CliError, exitCodes, type CliContext } from '../context.js';

interface RequestOptions {
  url?: string;
  org: string;
  key: string;
  sub: string;
  purpose: string;
  roles?: string;
  caseRef?: string;
  breakGlass?: string;
  query?: string;
  queryFile?: string;
  variables?: string;
  var?: string[];
}

/**
 * `--var name=value` is a string (so an NHS number stays a string), `--var name:=json` a JSON
 * value (`first:=50`, `filter:={"action":"READ"}`), `--var name=@file.json` the file's JSON.
 */
async function parseVars(pairs: readonly string[], context: CliContext): Promise<Record<string, unknown>> {
  const variables: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new CliError(`--var "${pair}" must look like name=value, name:=json or name=@file.json`, exitCodes.usage);
    const json = pair[at - 1] === ':';
    const name = pair.slice(0, json ? at - 1 : at);
    const value = pair.slice(at + 1);
    if (json) {
      try {
        variables[name] = JSON.parse(value);
      } catch {
        throw new CliError(`--var ${name}:= is not valid JSON`, exitCodes.usage);
      }
    } else if (value.startsWith('@')) variables[name] = await context.readJsonFile(value.slice(1), `variable ${name}`);
    else variables[name] = value;
  }
  return variables;
}

/**
 * `accord request`: mint a fresh token and send one GraphQL operation to a running hub — what a
 * partner system does, from the shell. Prints the JSON response; exits 1 when it has errors.
 */
export function registerRequestCommands(program: Command, context: CliContext): void {
  program
    .command('request')
    .description(
      'Send one GraphQL operation to a running hub as an organisation (a fresh token is minted for it) and print the JSON response. ' +
        'Exits 0 when the response carries data (even with NOT_SHARED fields), 1 when it carries none.',
    )
    .option('--url <url>', 'the hub (default: http://HOST:PORT from the environment, i.e. http://127.0.0.1:4000)')
    .requiredOption('--org <id>', 'the calling organisation')
    .requiredOption('--key <file>', "the organisation's private JWK file")
    .requiredOption('--sub <sub>', 'the person or system acting')
    .requiredOption('--purpose <code>', 'the purpose of the request')
    .option('--roles <a,b>', 'comma-separated roles')
    .option('--case-ref <ref>', 'the case that justifies the access')
    .option('--break-glass <reason>', 'break-glass reason (20+ characters)')
    .option('--query <graphql>', 'the operation text')
    .option('--query-file <file>', 'read the operation from a file')
    .option('--variables <json>', 'variables as a JSON object')
    .option('--var <name=value>', 'one variable (repeatable): name=string, name:=json, or name=@file.json to read JSON from a file', (v: string, all: string[] = []) => [...all, v])
    .addHelpText(
      'after',
      `
Examples:
  $ npx accord request --org westminster --key ./keys/westminster-1.private.jwk.json \\
      --sub jo@westminster --purpose safeguarding-children --roles social-worker \\
      --query '{ me { organisation { id } roles } }'
  $ npx accord request --org westminster --key ./keys/westminster-1.private.jwk.json \\
      --sub jo@westminster --purpose safeguarding-children \\
      --query 'mutation($e: JSON!) { submitAgreement(envelope: $e) { id version status } }' --var e=@envelope.json`,
    )
    .action(async (options: RequestOptions) => {
      if (!organisationIdPattern.test(options.org)) throw new CliError(`--org "${options.org}" is not an organisation id`);
      if ((options.query === undefined) === (options.queryFile === undefined)) throw new CliError('give exactly one of --query or --query-file', exitCodes.usage);
      const query = options.query ?? (await fs.readFile(options.queryFile as string, 'utf8').catch(() => {
        throw new CliError(`cannot read ${options.queryFile}`);
      }));
      let variables: Record<string, unknown> = {};
      if (options.variables !== undefined) {
        try {
          variables = JSON.parse(options.variables) as Record<string, unknown>;
        } catch {
          throw new CliError('--variables is not valid JSON', exitCodes.usage);
        }
      }
      Object.assign(variables, await parseVars(options.var ?? [], context));
      const privateJwk = await context.readJsonFile(options.key, 'private key');
      if (typeof privateJwk !== 'object' || privateJwk === null || 'keys' in privateJwk) throw new CliError(`${options.key} is not a private JWK`);
      const config = context.config();
      const token = await signCallerToken({
        org: options.org,
        privateJwk: privateJwk as JWK,
        sub: options.sub,
        purpose: options.purpose,
        roles: (options.roles ?? '').split(',').map((r) => r.trim()).filter((r) => r !== ''),
        ttlSeconds: 60,
        caseRef: options.caseRef,
        breakGlass: options.breakGlass,
        hubId: config.hubId,
        clock: systemClock,
      });
      const url = options.url ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
      let response: Response;
      try {
        response = await fetch(new URL('/graphql', url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        });
      } catch {
        throw new CliError(`cannot reach the hub at ${url} (is it running?)`);
      }
      const text = await response.text();
      let body: { data?: unknown; errors?: unknown[] };
      try {
        body = JSON.parse(text) as { data?: unknown; errors?: unknown[] };
      } catch {
        throw new CliError(`the hub answered HTTP ${response.status} without JSON`);
      }
      context.printJson(body);
      // A partial result (data with NOT_SHARED fields) is an answer; no data at all is a failure.
      if (body.data === undefined || body.data === null) throw new CliError(`the hub answered HTTP ${response.status} with errors and no data (printed above)`);
    });
}
