/**
 * `accord agreement sign | revoke-sign` through the real binary, as a party's operator runs them,
 * on the complete example of docs/agreements.md. What they write is checked with the hub's own
 * verifiers and real keys. Offline: no database is opened.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAgreement, verifyEnvelope, verifyRevocation, type KeyLookup } from '../../src/agreements/index.js';
import { generateSigningKey, writeKeyFiles, type KeyFiles } from '../../src/auth/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'bin', 'accord.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function accord(args: readonly string[], cwd: string): Promise<Run> {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...inherited, ACCORD_DATA_DIR: path.join(cwd, 'data') }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** The complete example agreement of docs/agreements.md (between its example markers). */
function docsExample(): Record<string, unknown> {
  const docs = fs.readFileSync(path.join(root, 'docs', 'agreements.md'), 'utf8');
  const match = /<!-- example:start -->\s*```json\n([\s\S]*?)```\s*<!-- example:end -->/.exec(docs);
  if (match?.[1] === undefined) throw new Error('docs/agreements.md has no example between <!-- example:start --> and <!-- example:end -->');
  return JSON.parse(match[1]) as Record<string, unknown>;
}

describe('accord agreement', { timeout: 120_000 }, () => {
  let dir: string;
  let example: Record<string, unknown>;
  let parties: string[];
  const keys = new Map<string, KeyFiles & { publicJwk: JWK }>();
  const keyFor: KeyLookup = (org, kid) => {
    const key = keys.get(org);
    return key?.publicJwk.kid === kid ? key.publicJwk : undefined;
  };
  const file = (name: string) => path.join(dir, name);
  const write = (name: string, value: unknown) => fs.writeFileSync(file(name), JSON.stringify(value, null, 2));
  const sign = (org: string, doc: string, out: string, envelope?: string) =>
    accord(['agreement', 'sign', '--doc', doc, '--org', org, '--key', keys.get(org)?.privateKeyFile ?? 'none', ...(envelope === undefined ? [] : ['--envelope', envelope]), '--out', out], dir);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-agreement-cli-'));
    example = docsExample();
    const recipients = example.recipients as { org: string }[];
    parties = [example.provider as string, ...recipients.map((r) => r.org)];
    for (const [index, org] of parties.entries()) {
      const key = await generateSigningKey({ alg: ['EdDSA', 'ES256', 'PS256'][index % 3] as string, kid: `${org}-1` });
      const files = await writeKeyFiles(file('keys'), key);
      keys.set(org, { ...files, publicJwk: key.publicJwks.keys[0] as JWK });
    }
    write('agreement.json', example);
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the documented example is a valid agreement', () => {
    expect(() => validateAgreement(example, { isRegisteredOrg: () => true })).not.toThrow();
    expect(parties.length).toBeGreaterThanOrEqual(2);
  });

  it('each party signs in turn into the same file; the envelope verifies with every party’s key', async () => {
    const [first, ...others] = parties as [string, ...string[]];
    const started = await sign(first, 'agreement.json', 'envelope.json');
    expect(started).toMatchObject({ code: 0, stderr: '' });
    expect(started.stdout).toBe(`signed ${String(example.id)} v${String(example.version)} as ${first}: envelope.json\nstill to sign: ${others.join(', ')}\n`);

    for (const [index, org] of others.entries()) {
      const run = await sign(org, 'agreement.json', 'envelope.json', 'envelope.json');
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout.split('\n')[1]).toBe(index === others.length - 1 ? 'every party has signed: ready to submit' : `still to sign: ${others.slice(index + 1).join(', ')}`);
    }

    const envelope = JSON.parse(fs.readFileSync(file('envelope.json'), 'utf8')) as unknown;
    const verified = await verifyEnvelope(envelope, { keyFor });
    expect(verified.document).toEqual(example);
    expect(verified.signatures.map((s) => s.org)).toEqual(parties);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('warns about problems in the document but still signs', async () => {
    const draft = { ...example, id: 'draft-isa', lawfulBasis: { article6: 'public-task' }, scope: [{ recordType: 'SocialCareCase', fields: ['caseRef', 'shoeSize'] }] };
    write('draft.json', draft);
    const run = await sign(parties[0] as string, 'draft.json', 'draft-envelope.json');
    expect(run.code).toBe(0);
    const warnings = run.stderr.trim().split('\n');
    expect(warnings).toContain('warning: lawfulBasis.article9: is required: the scope includes special-category data (SocialCareCase)');
    expect(warnings.some((line) => line.startsWith('warning: scope[0].fields[1]: '))).toBe(true);
    expect(warnings.every((line) => line.startsWith('warning: '))).toBe(true);
    expect(fs.existsSync(file('draft-envelope.json'))).toBe(true);
  });

  it.each<[string, (context: { first: string; second: string }) => string[], RegExp]>([
    ['a signer that is not a party', ({ first }) => ['--doc', 'agreement.json', '--org', 'camden', '--key', keyPath(first), '--out', 'x.json'], /^error: camden is neither the provider nor a recipient of this agreement/],
    ['an envelope over another document', ({ second }) => ['--doc', 'other.json', '--org', second, '--key', keyPath(second), '--envelope', 'envelope.json', '--out', 'x.json'], /^error: the envelope was signed over a different document/],
    ['a public key set instead of the private key', ({ first }) => ['--doc', 'agreement.json', '--org', first, '--key', keys.get(first)?.publicJwksFile ?? '', '--out', 'x.json'], /is a public key set/],
    ['a document that is not JSON', ({ first }) => ['--doc', 'broken.json', '--org', first, '--key', keyPath(first), '--out', 'x.json'], /^error: the agreement document broken.json is not valid JSON$/],
    ['a missing document', ({ first }) => ['--doc', 'nowhere.json', '--org', first, '--key', keyPath(first), '--out', 'x.json'], /^error: cannot read the agreement document nowhere.json: no such file$/],
  ])('refuses %s with one line and exit 1, writing nothing', async (_name, args, message) => {
    write('other.json', { ...example, version: Number(example.version) + 1 });
    fs.writeFileSync(file('broken.json'), '{ "type": ');
    const run = await accord(['agreement', 'sign', ...args({ first: parties[0] as string, second: parties[1] as string })], dir);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(message);
    expect(fs.existsSync(file('x.json'))).toBe(false);
  });

  it('revoke-sign writes a revocation the hub verifies, as a JSON string for --var r=@file', async () => {
    const org = parties[1] as string;
    const before = Date.now();
    const run = await accord(['agreement', 'revoke-sign', '--agreement', String(example.id), '--version', '2', '--reason', 'Arrangement ended by the MASH board', '--org', org, '--key', keyPath(org), '--out', 'revocation.json'], dir);
    expect(run).toMatchObject({ code: 0, stderr: '', stdout: `signed the revocation of ${String(example.id)} v2 as ${org}: revocation.json\n` });
    const jws = JSON.parse(fs.readFileSync(file('revocation.json'), 'utf8')) as unknown;
    expect(typeof jws).toBe('string');
    const revocation = await verifyRevocation(jws, { keyFor });
    expect(revocation).toMatchObject({ type: 'accord.revocation/v1', agreement: example.id, version: 2, reason: 'Arrangement ended by the MASH board', org });
    expect(Date.parse(revocation.at)).toBeGreaterThanOrEqual(before - 1000);
  });

  it.each([['0'], ['1.5'], ['two']])('revoke-sign --version %s is a usage error (exit 2)', async (version) => {
    const org = parties[0] as string;
    const run = await accord(['agreement', 'revoke-sign', '--agreement', 'a-b', '--version', version, '--reason', 'x', '--org', org, '--key', keyPath(org), '--out', 'r.json'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--version <n>.*must be a positive whole number/);
  });

  it.each([['agreement sign'], ['agreement revoke-sign']])('%s --help describes the command with an example', async (command) => {
    const run = await accord([...command.split(' '), '--help'], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Examples?[^:]*:\n\s+\$ .*npx accord agreement /);
  });

  function keyPath(org: string): string {
    return keys.get(org)?.privateKeyFile ?? 'missing';
  }
});
