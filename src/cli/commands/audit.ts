import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import { auditExportFormats, exportAuditEvents, verifyChain, type AuditExportFormat, type VerifyChainResult } from '../../audit/index.js';
import { progressLine } from '../progress-line.js';
import { CliError, exitCodes, type CliContext } from '../context.js';


function percent(part: number, whole: number): string {
  return whole === 0 ? '100%' : `${Math.floor((part / whole) * 100)}%`;
}

/** `--from`/`--to`: RFC 3339 date-times (or plain dates, meaning midnight UTC). */
function parseInstant(value: string, option: string): Date {
  const pattern = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;
  const instant = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!pattern.test(value) || Number.isNaN(instant.getTime())) {
    throw new CliError(`${option} must be an RFC 3339 date-time such as 2026-03-01T00:00:00Z (or a date, 2026-03-01)`, exitCodes.usage);
  }
  return instant;
}

function verificationJson(result: VerifyChainResult) {
  return {
    intact: result.intact,
    headSeq: result.headSeq,
    headHash: result.headHash,
    eventsChecked: result.checked,
    checkpointsChecked: result.checkpointsChecked,
    verifiedUpTo: result.verifiedUpTo,
    firstBad: result.firstBad ?? null,
  };
}

/** `accord audit verify | export`: prove the audit trail intact, and hand it to an auditor. */
export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('Verify the tamper-evident audit trail and export it for auditors.');

  audit
    .command('verify')
    .description(
      'Recompute the whole hash chain from seq 1 and check every signed checkpoint. Exit 0 when intact; exit 1 naming the first bad seq and what is wrong (hash mismatch, gap, checkpoint mismatch).',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Example:
  $ npx accord audit verify
  audit chain intact: 1204 events (seq 1 to 1204), 12 signed checkpoints verified, head hash 3f9c...`,
    )
    .action(async (options: { json?: boolean }) => {
      const progress = progressLine(context);
      const result = await context.withDatabase('audit verify', async ({ db }) =>
        verifyChain(db, {
          onProgress: ({ lastSeq, headSeq }) => progress.update(`verifying the audit chain: seq ${lastSeq} of ${headSeq} (${percent(lastSeq, headSeq)})`),
        }),
      ).finally(() => progress.done());
      if (options.json === true) context.printJson(verificationJson(result));
      const bad = result.firstBad;
      if (bad !== undefined) {
        throw new CliError(`audit chain NOT intact: first bad seq ${bad.seq} (${bad.kind}): ${bad.message}`);
      }
      if (options.json !== true) {
        context.print(
          result.headSeq === 0
            ? 'audit chain intact: no events yet'
            : `audit chain intact: ${result.checked} events (seq 1 to ${result.headSeq}), ` +
                `${result.checkpointsChecked} signed checkpoint${result.checkpointsChecked === 1 ? '' : 's'} verified, head hash ${result.headHash}`,
        );
      }
    });

  audit
    .command('export')
    .description('Stream audit events to a file as CSV, NDJSON, or a FHIR R5 Bundle of AuditEvent resources (constant memory).')
    .addOption(new Option('--format <format>', 'output format').choices(auditExportFormats).makeOptionMandatory())
    .option('--from <time>', 'events at or after this RFC 3339 time')
    .option('--to <time>', 'events before this RFC 3339 time')
    .requiredOption('--out <file>', 'file to write (replaced only once the export is complete)')
    .addHelpText(
      'after',
      `
Examples:
  $ npx accord audit export --format csv --out audit-2026.csv --from 2026-01-01 --to 2027-01-01
  $ npx accord audit export --format fhir --out audit.fhir.json`,
    )
    .action(async (options: { format: AuditExportFormat; from?: string; to?: string; out: string }) => {
      const from = options.from === undefined ? undefined : parseInstant(options.from, '--from');
      const to = options.to === undefined ? undefined : parseInstant(options.to, '--to');
      if (from !== undefined && to !== undefined && to.getTime() <= from.getTime()) throw new CliError('--to must be after --from', exitCodes.usage);
      // Written beside the target and renamed at the end, so an auditor never receives a
      // truncated export that looks complete.
      const partial = `${options.out}.partial-${process.pid}`;
      const progress = progressLine(context);
      let count: number;
      try {
        count = await context.withDatabase('audit export', async ({ db }, config) => {
          const out = fs.createWriteStream(partial, { flags: 'wx', mode: 0o600 });
          const opened = new Promise<void>((resolve, reject) => {
            out.once('open', () => resolve());
            out.once('error', reject);
          });
          await opened.catch((error: unknown) => {
            throw new CliError(`cannot write ${options.out}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
          });
          try {
            const written = await exportAuditEvents(db, {
              format: options.format,
              from,
              to,
              out,
              hubId: config.hubId,
              onProgress: (n) => progress.update(`exporting audit events: ${n} written`),
            });
            out.end();
            await finished(out);
            return written.count;
          } catch (error) {
            out.destroy();
            throw error;
          }
        });
        fs.renameSync(partial, options.out);
      } catch (error) {
        fs.rmSync(partial, { force: true });
        throw error;
      } finally {
        progress.done();
      }
      const range = from === undefined && to === undefined ? '' : ` (${from?.toISOString() ?? 'start'} to ${to?.toISOString() ?? 'now'})`;
      context.print(`exported ${count} audit event${count === 1 ? '' : 's'}${range} as ${options.format} to ${options.out}`);
    });
}
