export { openDatabase, rowsOf, migrationsFolder, type Database, type Db, type Tx, type OpenDatabaseOptions } from './client.js';
export { databaseErrorOf, type DatabaseErrorInfo } from './database-error.js';
export { acquireDataDirLock, markDataDirsStopping, DataDirLockedError, type DataDirLock } from './data-dir-lock.js';
export * as tables from './tables.js';
