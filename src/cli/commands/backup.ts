import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  accordVersion,
  createBackup,
  decodeBackup,
  requestBackupFromHub,
  restoreBackup,
  snapshotEmbeddedDatabase,
  writeBackupFile,
  BackupFileError,
  RestoreError,
  type DecodedBackup,
  type RestoreBackupResult,
} from '../../backup/index.js';
import { systemClock } from '../../clock.js';
import { progressLine } from '../progress-line.js';
import { CliError, exitCodes, type CliContext } from '../context.js';

const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;


const note = (context: CliContext, text: string) => context.io.stderr(`note: ${text}\n`);

function embeddedOnly(command: 'backup' | 'restore'): CliError {
  const instead =
    command === 'backup'
      ? 'back PostgreSQL up with pg_dump --format=custom, and with pg_basebackup and WAL archiving for point-in-time recovery'
      : 'restore PostgreSQL with pg_restore, or by point-in-time recovery from a base backup and archived WAL';
  return new CliError(`accord ${command} is for the embedded database only, and DATABASE_URL is set: ${instead} (docs/operator.md section 5)`, exitCodes.usage);
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function readBackupFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : 'it cannot be read';
    throw new CliError(`cannot read the backup ${file}: ${reason}`);
  }
}

/** `accord backup | restore`: the embedded database, whole, consistent, verified on restore. */
export function registerBackupCommands(program: Command, context: CliContext): void {
  program
    .command('backup')
    .summary('Write the embedded database and the data directory to one file, consistently even while the hub runs.')
    .description(
      'Write the embedded database, whole and consistent, with the rest of the data directory (the hub signing key, demo keys) to one file, mode 0600. ' +
        'While a hub runs on the data directory the backup is made by that hub, without stopping it; otherwise the database is opened here. ' +
        'The file holds the hub private signing key: keep it as safe as the key. PostgreSQL: use pg_dump (docs/operator.md section 5).',
    )
    .requiredOption('--out <file>', 'the backup file to write (replaced only once the backup is complete)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ npx accord backup --out /var/backups/accord/accord-$(date +%F).backup
  $ ACCORD_DATA_DIR=/srv/accord npx accord backup --out accord.backup --json

Exit codes: 0 written, 1 failed (nothing written), 2 usage error (or DATABASE_URL is set).`,
    )
    .action(async (options: { out: string; json?: boolean }) => {
      const config = context.config();
      if (config.databaseUrl !== undefined) throw embeddedOnly('backup');
      const out = path.resolve(options.out);
      if (isInside(out, config.dataDir)) {
        throw new CliError(`--out must be outside the data directory ${config.dataDir}: a backup kept beside the database is lost with it`, exitCodes.usage);
      }
      try {
        fs.accessSync(path.dirname(out), fs.constants.W_OK);
      } catch {
        throw new CliError(`cannot write ${out}: its directory does not exist or is not writable`);
      }

      const progress = progressLine(context);
      let bytes: Buffer;
      let skipped: readonly string[];
      let source: string;
      try {
        const fromHub = await requestBackupFromHub(config.dataDir, {
          onProgress: (received, total) => progress.update(`receiving the backup from the running hub: ${megabytes(received)} of ${megabytes(total)}`),
        });
        if (fromHub !== undefined) {
          ({ bytes, skipped } = fromHub);
          source = 'made by the running hub';
        } else {
          if (!fs.existsSync(path.join(config.dataDir, 'pgdata', 'PG_VERSION'))) {
            throw new CliError(`there is no embedded database in ${config.dataDir} to back up (set ACCORD_DATA_DIR to the hub's data directory)`);
          }
          ({ bytes, skipped } = await context.withDatabase(
            'backup',
            async (database) =>
              await createBackup({ dataDir: config.dataDir, snapshot: await snapshotEmbeddedDatabase(database), accordVersion: accordVersion(), clock: systemClock }),
            // A backup copies the database as it is; migrating is the hub's business.
            { migrate: false },
          ));
          source = 'no hub running';
        }
      } finally {
        progress.done();
      }

      // Read back before it is written: what lands on disk is known to restore.
      let decoded: DecodedBackup;
      try {
        decoded = decodeBackup(bytes);
      } catch (error) {
        if (error instanceof BackupFileError) throw new CliError(`the backup came out unreadable, so nothing was written: it ${error.message}`);
        throw error;
      }
      try {
        await writeBackupFile(out, bytes);
      } catch (error) {
        throw new CliError(`cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }

      const { manifest } = decoded;
      const files = manifest.files.map((f) => f.path);
      if (options.json === true) {
        context.printJson({ file: out, bytes: bytes.length, source, ...manifest, skipped });
      } else {
        context.print(
          `backup written to ${out} (${source}): ${megabytes(bytes.length)}, audit head seq ${manifest.audit.headSeq}, ` +
            `${files.length} file${files.length === 1 ? '' : 's'} (${files.join(', ')})`,
        );
      }
      if (manifest.hubKeyIncluded) note(context, "the backup holds the hub's private signing key: keep it as safe as the key itself");
      if (config.hubKeyFile !== undefined) note(context, `the hub signing key ACCORD_HUB_KEY_FILE (${config.hubKeyFile}) is not in the backup: keep it in your secret store`);
      if (skipped.length > 0) note(context, `left out of the backup (special files or unusual names): ${skipped.join(', ')}`);
    });

  program
    .command('restore')
    .summary('Restore a backup into the data directory, checked and audit-verified before it replaces anything.')
    .description(
      'Restore a backup made by `accord backup` into the data directory. The whole file is checked first (a truncated, corrupt or foreign file is refused); ' +
        'the database is then unpacked beside the current one, opened, and its whole audit chain verified, and only then swapped in. ' +
        'Refuses while a hub holds the data directory, and refuses a data directory that is not empty unless --force.',
    )
    .requiredOption('--from <file>', 'the backup file')
    .option('--force', 'replace what the data directory holds (deleted only once the restore has succeeded)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ ACCORD_DATA_DIR=/srv/accord-restored npx accord restore --from accord-2026-11-23.backup
  $ npx accord restore --from accord-2026-11-23.backup --force     # stop the hub first

Exit codes: 0 restored, 1 refused or failed (the data directory is unchanged), 2 usage error (or DATABASE_URL is set).`,
    )
    .action(async (options: { from: string; force?: boolean; json?: boolean }) => {
      const config = context.config();
      if (config.databaseUrl !== undefined) throw embeddedOnly('restore');
      const file = options.from;
      const bytes = readBackupFile(file);
      let backup: DecodedBackup;
      try {
        backup = decodeBackup(bytes);
      } catch (error) {
        if (error instanceof BackupFileError) throw new CliError(`refusing to restore: the backup ${file} ${error.message}. Nothing was changed`);
        throw error;
      }
      const { manifest } = backup;
      context.io.stderr(
        `checked ${file}: made ${manifest.createdAt} by Accord ${manifest.accordVersion}, ${megabytes(bytes.length)}, ` +
          `audit head seq ${manifest.audit.headSeq}, SHA-256 verified\n`,
      );

      const progress = progressLine(context);
      let result: RestoreBackupResult;
      try {
        result = await restoreBackup({
          backup,
          dataDir: config.dataDir,
          force: options.force === true,
          onProgress: (step) => {
            switch (step.step) {
              case 'loading':
                context.io.stderr(`loading the database (${megabytes(step.bytes)} compressed) into a staging directory\n`);
                return;
              case 'migrating':
                context.io.stderr(`applying ${step.pending} migration${step.pending === 1 ? '' : 's'} this version of Accord adds\n`);
                return;
              case 'verifying':
                progress.update(`verifying the audit chain: seq ${step.lastSeq} of ${step.headSeq}`);
                return;
              case 'swapping':
                progress.done();
                context.io.stderr(`swapping the verified copy into ${config.dataDir}\n`);
                return;
              default:
                return step satisfies never;
            }
          },
        });
      } catch (error) {
        if (error instanceof RestoreError) throw new CliError(error.message);
        throw error;
      } finally {
        progress.done();
      }

      if (options.json === true) {
        context.printJson({ file, dataDir: config.dataDir, manifest, ...result });
      } else {
        context.print(
          `restored ${file} into ${config.dataDir}: ${result.auditEvents} audit events verified` +
            (result.headSeq === 0 ? '' : ` (seq 1 to ${result.headSeq}, head hash ${result.headHash})`) +
            `, ${result.checkpointsChecked} signed checkpoint${result.checkpointsChecked === 1 ? '' : 's'}` +
            (result.replaced.length === 0 ? '' : `; replaced ${result.replaced.join(', ')}`),
        );
      }
      if (!manifest.hubKeyIncluded) {
        note(context, 'the backup holds no hub-signing-key.json: a hub that used ACCORD_HUB_KEY_FILE needs that file again; otherwise the hub makes a new key at its next start');
      }
      note(
        context,
        `anything written after ${manifest.createdAt} is not in this backup; partners holding checkpoints past seq ${manifest.audit.headSeq} will see them no longer match (docs/operator.md section 5)`,
      );
    });
}
