import { Option, type Command } from 'commander';
import { generateSigningKey, signingAlgorithms, writeKeyFiles } from '../../auth/index.js';
import type { CliContext } from '../context.js';

/** `accord keys generate`: make an organisation's signing key pair. */
export function registerKeysCommands(program: Command, context: CliContext): void {
  const keys = program.command('keys').description('Manage signing keys.');
  keys
    .command('generate')
    .description('Generate a signing key pair: a private JWK (kept by the organisation, mode 0600) and a public JWKS (registered with the hub).')
    .addOption(new Option('--alg <alg>', 'signature algorithm').choices(signingAlgorithms).makeOptionMandatory())
    .requiredOption('--kid <kid>', 'key id: letters, digits, . _ - (also names the files)')
    .requiredOption('--out <dir>', 'directory to write <kid>.private.jwk.json and <kid>.jwks.json into')
    .option('--json', 'print the file paths as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ npx accord keys generate --alg EdDSA --kid westminster-2026 --out ./keys
  $ npx accord keys generate --alg ES256 --kid met-police-1 --out /etc/accord/keys --json`,
    )
    .action(async (options: { alg: string; kid: string; out: string; json?: boolean }) => {
      const key = await generateSigningKey({ alg: options.alg, kid: options.kid });
      const files = await writeKeyFiles(options.out, key);
      if (options.json === true) {
        context.printJson(files);
        return;
      }
      context.print(`private key: ${files.privateKeyFile}  (keep it secret; never upload it)`);
      context.print(`public keys: ${files.publicJwksFile}  (register it: npx accord org add --id ID --name NAME --kind KIND --jwks ${files.publicJwksFile})`);
    });
}
