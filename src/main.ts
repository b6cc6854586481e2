/**
 * `npm start`: the hub in demo mode on the embedded database (unless ACCORD_MODE or
 * DATABASE_URL say otherwise). The only module that does something when imported.
 */
import { ConfigError, loadConfig } from './config.js';
import { DataDirLockedError } from './db/index.js';
import { runHub } from './run-hub.js';

try {
  await runHub(loadConfig(process.env, { mode: 'demo' }));
} catch (error) {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    console.error(`accord: ${error.message}`);
    process.exit(1);
  }
  console.error('accord: could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
}
