/**
 * A clean stop (operator.md, "Stopping"): SIGTERM or SIGINT to a real `accord serve` under read
 * load ends it within 5 s with exit code 0, every request it accepted answered and audited, the
 * database closed and (embedded) the data directory's lock released, so the next command can
 * open it at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSharedDatabase, killHubProcess, startHubProcess, type HubProcess, type SharedDatabase } from '../helpers/hub-process.js';
import { expectLedgerAudited, prepareReader, runReadLoad } from '../helpers/read-load.js';
import { testBackend } from '../helpers/test-database.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('accord serve stops cleanly on a signal', { timeout: 60_000 }, () => {
  let shared: SharedDatabase | undefined;
  let hub: HubProcess | undefined;
  afterEach(async () => {
    await killHubProcess(hub);
    await shared?.dispose();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s: drains requests, flushes the audit, releases the database and exits 0 within 5 s', async (signal) => {
    shared = await createSharedDatabase();
    const org = await prepareReader(shared.database.db);
    if (testBackend === 'pglite') await shared.database.close();
    hub = await startHubProcess(shared.env);

    let stopLoad = () => {};
    const load = runReadLoad(org, { concurrency: 8, urls: [hub.url], until: new Promise<void>((resolve) => (stopLoad = resolve)) });
    await sleep(800);
    const exited = hub.exited();
    hub.child.kill(signal);
    const { code, afterMs } = await exited;
    stopLoad();
    const result = await load;

    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(5_000);
    expect(hub.output()).toMatch(/stopped: requests drained, audit flushed, database closed/);
    expect(result.delivered.length).toBeGreaterThan(0);
    // Every request the hub accepted was answered in full: no 5xx while it drained.
    expect(result.unexpected).toEqual([]);
    if (testBackend === 'pglite') {
      expect(fs.existsSync(path.join(shared.dataDir, 'accord.lock'))).toBe(false);
      // The next process opens the directory at once: no "in use", no wait.
      await shared.reopen();
    }
    await expectLedgerAudited(shared.database.db, result.delivered);
  });
});
