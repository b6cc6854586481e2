export { openDatabase, rowsOf, migrationsFolder, type Database, type Db, type Tx, type OpenDatabaseOptions } from './client.js';
export { databaseErrorOf, isDatabaseUnavailable, DatabaseUnavailableError, type DatabaseErrorInfo } from './database-error.js';
export { acquireDataDirLock, markDataDirsStopping, DataDirLockedError, type DataDirLock, type StaleLock } from './data-dir-lock.js';
export * as tables from './tables.js';
