export {
  backupFormatVersion,
  backupMagic,
  databaseTarballPath,
  decodeBackup,
  encodeBackup,
  BackupFileError,
  type BackupFile,
  type BackupFileEntry,
  type BackupManifest,
  type DecodedBackup,
} from './backup-format.js';
export { snapshotEmbeddedDatabase, type EmbeddedSnapshot } from './snapshot-embedded-database.js';
export { createBackup, writeBackupFile, type CreateBackupOptions, type CreatedBackup } from './create-backup.js';
export { startBackupSocket, backupSocketPath, backupSocketName, type BackupSocketOptions, type BackupSocketLogger } from './backup-socket.js';
export { requestBackupFromHub, type HubBackup, type RequestBackupOptions } from './request-backup-from-hub.js';
export { restoreBackup, RestoreError, type RestoreBackupOptions, type RestoreBackupResult, type RestoreProgress } from './restore-backup.js';
export { accordVersion } from './accord-version.js';
