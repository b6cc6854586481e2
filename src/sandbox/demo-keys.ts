/**
 * The demo organisations' private keys and the seed's own record, kept under
 * `<dataDir>/demo-keys/`. Only the sandbox reads them, to mint persona tokens; a production hub
 * never has this directory.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { JWK } from 'jose';
import { isDemoOrganisation } from './demo-partnership.js';

export const demoKeysDirName = 'demo-keys';
const seedRecordName = 'demo-partnership.json';

/** What seeding wrote down, so the sandbox page shows the examples of the partnership actually seeded. */
export interface DemoSeedRecord {
  readonly referenceYear: number;
  readonly seededAt: string;
  readonly organisations: readonly string[];
}

export function demoKeysDir(dataDir: string): string {
  return path.join(dataDir, demoKeysDirName);
}

function keyFile(dataDir: string, org: string): string {
  // Only demo organisation ids (a fixed list) ever name a file: no path can be smuggled in.
  if (!isDemoOrganisation(org)) throw new TypeError(`${org} is not a demo organisation`);
  return path.join(demoKeysDir(dataDir), `${org}.private.jwk.json`);
}

/** Writes a demo organisation's private JWK, readable by its owner only (mode 0600, directory 0700). */
export async function writeDemoKey(dataDir: string, org: string, privateJwk: JWK): Promise<string> {
  const file = keyFile(dataDir, org);
  await fs.mkdir(demoKeysDir(dataDir), { recursive: true, mode: 0o700 });
  await fs.writeFile(file, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file; make sure of it either way.
  await fs.chmod(file, 0o600);
  return file;
}

/** A demo organisation's private JWK, or `undefined` when the org is not a demo one or has no key here. */
export async function readDemoKey(dataDir: string, org: string): Promise<JWK | undefined> {
  if (!isDemoOrganisation(org)) return undefined;
  try {
    return JSON.parse(await fs.readFile(keyFile(dataDir, org), 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeDemoSeedRecord(dataDir: string, record: DemoSeedRecord): Promise<void> {
  await fs.mkdir(demoKeysDir(dataDir), { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(demoKeysDir(dataDir), seedRecordName), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export async function readDemoSeedRecord(dataDir: string): Promise<DemoSeedRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(demoKeysDir(dataDir), seedRecordName), 'utf8')) as DemoSeedRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Removes every demo key and the seed record (before a re-seed). */
export async function removeDemoKeys(dataDir: string): Promise<void> {
  await fs.rm(demoKeysDir(dataDir), { recursive: true, force: true });
}
