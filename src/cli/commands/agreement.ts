import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { JWK } from 'jose';
import {
  decodeEnvelope,
  signAgreement,
  signaturesOf,
  signRevocation,
  validateAgreement,
  type AgreementEnvelope,
} from '../../agreements/index.js';
import { organisationIdPattern } from '../../auth/index.js';
import { systemClock } from '../../clock.js';
import { InputError } from '../../errors.js';
import { CliError, type CliContext } from '../context.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseVersion(value: string): number {
  const version = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(version) || version < 1) throw new InvalidArgumentError('must be a positive whole number');
  return version;
}

function checkOrg(org: string): void {
  if (!organisationIdPattern.test(org)) throw new CliError(`--org "${org}" is not an organisation id (2-63 lower-case letters, digits or hyphens)`);
}

async function readPrivateKey(context: CliContext, file: string): Promise<JWK> {
  const jwk = await context.readJsonFile(file, 'private key');
  if (!isPlainObject(jwk)) throw new CliError(`the private key ${file} is not a JWK object`);
  if ('keys' in jwk) throw new CliError(`${file} is a public key set: pass the organisation's .private.jwk.json file`);
  return jwk as JWK;
}

/**
 * Writes through a temporary file and a rename, so `--out` may name the `--envelope` file being
 * signed and an interrupted write never leaves half an envelope behind.
 */
async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(temporary, text, { mode: 0o644 });
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`cannot write ${file}: ${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : 'write failed'}`);
  }
}

/**
 * The problems `validateAgreement` finds that do not depend on the hub's registry (which
 * organisations are registered is only known to the hub): printed as warnings, because a party
 * may sign a draft on purpose, but the hub will refuse the envelope until they are fixed.
 */
function documentProblems(document: unknown): { path: string; reason: string }[] {
  try {
    validateAgreement(document, { isRegisteredOrg: () => true });
    return [];
  } catch (error) {
    if (error instanceof InputError) return [...error.problems];
    throw error;
  }
}

function partiesOf(document: Record<string, unknown>): string[] {
  const recipients = Array.isArray(document.recipients) ? document.recipients : [];
  const orgs = recipients.map((r: unknown) => (isPlainObject(r) ? r.org : undefined));
  return [document.provider, ...orgs].filter((org): org is string => typeof org === 'string');
}

/** `accord agreement sign | revoke-sign`: a party's signatures on agreements and revocations. */
export function registerAgreementCommands(program: Command, context: CliContext): void {
  const agreement = program
    .command('agreement')
    .description('Sign information-sharing agreements (accord.isa/v1) and their revocations. Works offline: the hub is not contacted and its database is not opened.');

  agreement
    .command('sign')
    .description(
      "Add an organisation's signature to an agreement: writes a JWS envelope (General JSON Serialization over the RFC 8785 form of the document). " +
        'The provider and every recipient must sign the same document; then any party submits the envelope.',
    )
    .requiredOption('--doc <file>', 'the agreement document (JSON, type accord.isa/v1)')
    .requiredOption('--org <id>', 'the signing organisation (the provider or a recipient)')
    .requiredOption('--key <file>', "the organisation's private JWK file")
    .option('--envelope <file>', 'an envelope other parties already signed: the signature is added to it')
    .requiredOption('--out <file>', 'where to write the envelope (may be the same file as --envelope)')
    .addHelpText(
      'after',
      `
The document is checked first; problems are printed as warnings (the hub will refuse the
envelope until they are fixed) but do not stop the signature. Whether the organisations are
registered is checked by the hub when the envelope is submitted.

Examples:
  $ npx accord agreement sign --doc agreement.json --org riverside \\
      --key ./keys/riverside-1.private.jwk.json --out envelope.json
  $ npx accord agreement sign --doc agreement.json --envelope envelope.json --org northshire-police \\
      --key ./keys/northshire-police-1.private.jwk.json --out envelope.json
  $ npx accord request --org riverside --key ./keys/riverside-1.private.jwk.json --sub dpo@riverside.example \\
      --purpose governance --roles dpo --var e=@envelope.json \\
      --query 'mutation($e: JSON!) { submitAgreement(envelope: $e) { id version status } }'`,
    )
    .action(async (options: { doc: string; org: string; key: string; envelope?: string; out: string }) => {
      checkOrg(options.org);
      const document = await context.readJsonFile(options.doc, 'agreement document');
      if (!isPlainObject(document)) throw new CliError(`the agreement document ${options.doc} is not a JSON object`);
      const parties = partiesOf(document);
      // A signature by anyone but a party makes the hub refuse the whole envelope: stop here.
      if (!parties.includes(options.org)) {
        throw new CliError(`${options.org} is neither the provider nor a recipient of this agreement (parties: ${parties.join(', ') || 'none'})`);
      }
      for (const problem of documentProblems(document)) context.io.stderr(`warning: ${problem.path}: ${problem.reason}\n`);

      let existing: AgreementEnvelope | undefined;
      if (options.envelope !== undefined) {
        const raw = await context.readJsonFile(options.envelope, 'envelope');
        existing = decodeEnvelope(raw).envelope;
      }
      const privateJwk = await readPrivateKey(context, options.key);
      const envelope = await signAgreement({ document, envelope: existing, org: options.org, privateJwk });
      await writeFileAtomically(options.out, `${JSON.stringify(envelope, null, 2)}\n`);

      const signed = new Set(signaturesOf(envelope).map((s) => s.org));
      const missing = parties.filter((party) => !signed.has(party));
      context.print(`signed ${String(document.id)} v${String(document.version)} as ${options.org}: ${options.out}`);
      context.print(missing.length === 0 ? 'every party has signed: ready to submit' : `still to sign: ${[...new Set(missing)].join(', ')}`);
    });

  agreement
    .command('revoke-sign')
    .description(
      'Sign a revocation of one agreement version (accord.revocation/v1, a compact JWS) as the provider or a recipient. ' +
        'Submit it with the revokeAgreement mutation; it takes effect at the next request on every hub instance.',
    )
    .requiredOption('--agreement <id>', 'the agreement id')
    .requiredOption('--version <n>', 'the version to revoke', parseVersion)
    .requiredOption('--reason <text>', 'why (kept with the agreement and in the audit trail)')
    .requiredOption('--org <id>', 'the revoking organisation (a party to that version)')
    .requiredOption('--key <file>', "the organisation's private JWK file")
    .requiredOption('--out <file>', 'where to write the revocation (a JSON string holding the compact JWS)')
    .addHelpText(
      'after',
      `
The file holds the compact JWS as a JSON string, so \`--var r=@FILE\` passes it to a GraphQL
variable as it is (\`jq -r . FILE\` prints the bare JWS).

Revoking version 2 makes version 1 decide again if it is still valid (a version is SUPERSEDED
only while a higher version is ACTIVE): revoke every version that must stop.

Examples:
  $ npx accord agreement revoke-sign --agreement riverside-police-mash --version 1 \\
      --reason "MASH arrangement ended" --org riverside --key ./keys/riverside-1.private.jwk.json --out revocation.json
  $ npx accord request --org riverside --key ./keys/riverside-1.private.jwk.json --sub dpo@riverside.example \\
      --purpose governance --roles dpo --var r=@revocation.json \\
      --query 'mutation($r: String!) { revokeAgreement(revocation: $r) { id version status } }'`,
    )
    .action(async (options: { agreement: string; version: number; reason: string; org: string; key: string; out: string }) => {
      checkOrg(options.org);
      const privateJwk = await readPrivateKey(context, options.key);
      const jws = await signRevocation({
        agreement: options.agreement,
        version: options.version,
        reason: options.reason,
        at: systemClock(),
        org: options.org,
        privateJwk,
      });
      await writeFileAtomically(options.out, `${JSON.stringify(jws)}\n`);
      context.print(`signed the revocation of ${options.agreement} v${options.version} as ${options.org}: ${options.out}`);
    });
}
