/**
 * Crash safety: `kill -9` of a real `accord serve` under concurrent read load. Every response the
 * clients received with records in it must have its READ events committed (CONTRACT §7: no
 * audit, no data), the chain must verify, and the next start on the same data must recover on
 * its own: on the embedded database, the lock the dead process left is taken over with a clear
 * log line, never a refusal that needs a human to delete a file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSharedDatabase, killHubProcess, startHubProcess, type HubProcess, type SharedDatabase } from '../helpers/hub-process.js';
import { expectLedgerAudited, prepareReader, readQuery, runReadLoad, subjects } from '../helpers/read-load.js';
import { testBackend } from '../helpers/test-database.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a hub killed with SIGKILL under load', { timeout: 90_000 }, () => {
  let shared: SharedDatabase | undefined;
  let hubs: HubProcess[] = [];
  afterEach(async () => {
    for (const hub of hubs) await killHubProcess(hub);
    hubs = [];
    await shared?.dispose();
  });

  it('loses no audit event of a delivered record, and the next start recovers by itself', async () => {
    shared = await createSharedDatabase();
    const org = await prepareReader(shared.database.db);
    if (testBackend === 'pglite') await shared.database.close();
    const first = await startHubProcess(shared.env);
    hubs.push(first);

    let stopLoad = () => {};
    const load = runReadLoad(org, { concurrency: 12, urls: [first.url], until: new Promise<void>((resolve) => (stopLoad = resolve)) });
    await sleep(1_500);
    const died = first.exited();
    first.child.kill('SIGKILL');
    expect((await died).signal).toBe('SIGKILL');
    stopLoad();
    const result = await load;
    expect(result.delivered.length).toBeGreaterThan(10);

    // The next start on the same data: no human step in between.
    const second = await startHubProcess(shared.env);
    hubs.push(second);
    if (testBackend === 'pglite') {
      expect(second.output()).toContain(`recovered the data directory lock left by process ${first.pid}`);
    }
    const after = await fetch(`${second.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await org.token()}` },
      body: JSON.stringify({ query: readQuery, variables: { n: subjects[0] } }),
    });
    expect(after.status).toBe(200);
    const stopped = second.exited();
    second.child.kill('SIGTERM');
    expect((await stopped).code).toBe(0);

    if (testBackend === 'pglite') await shared.reopen();
    await expectLedgerAudited(shared.database.db, result.delivered);
  });
});
