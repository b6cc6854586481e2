/**
 * Runs the README's "share a record between two real organisations" walkthrough exactly as
 * written (bash, `npx accord ...`, curl), in a fresh directory inside the checkout so `npx`
 * finds this package, with its own data directory and a free port.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function walkthroughScript(): string {
  const section = /<!-- walkthrough:start -->([\s\S]*?)<!-- walkthrough:end -->/.exec(readme)?.[1];
  if (section === undefined) throw new Error('README has no walkthrough section');
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error('README walkthrough has no bash block');
  return blocks.join('\n');
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('README walkthrough', () => {
  const workDir = fs.mkdtempSync(path.join(root, '.readme-walkthrough-'));
  afterAll(() => {
    // The hub is stopped by the script itself; make sure nothing is left behind if it failed.
    spawnSync('pkill', ['-f', `ACCORD_DATA_DIR=${workDir}`]);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('runs verbatim: keys, register, serve, publish, sign, submit, query, audit, verify', async () => {
    const script = walkthroughScript();
    const port = await freePort();
    // Trace each command, and print every command's output so a failure shows where.
    const wrapped = `set -euo pipefail\n${script}`;
    const result = spawnSync('bash', ['-c', wrapped], {
      cwd: workDir,
      env: { ...process.env, ACCORD_DATA_DIR: path.join(workDir, '.accord'), PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 240_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.status, output).toBe(0);

    // Step 5: nothing for the police before the agreement.
    expect(output).toContain('"socialCareCases": []');
    // Step 7: the agreement is active.
    expect(output).toMatch(/"status": "ACTIVE"/);
    // Step 8: the agreed fields, and the summary withheld.
    expect(output).toContain('"leadWorker": "Jo Bloggs"');
    expect(output).toContain('"summary": null');
    expect(output).toContain('NOT_SHARED');
    expect(output).not.toContain('Synthetic example only"');
    // Step 9: the DPO sees the police read, with the case reference and the agreement.
    expect(output).toContain('"actorOrg": "northshire-police"');
    expect(output).toContain('"caseRef": "NP-2026-77"');
    expect(output).toContain('"action": "PUBLISH"');
    // Step 10: the chain verifies.
    expect(output).toMatch(/intact/i);
    expect(fs.existsSync(path.join(workDir, 'envelope.json'))).toBe(true);
  }, 300_000);
});
