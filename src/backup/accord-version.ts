import fs from 'node:fs';

let cached: string | undefined;

/** The `version` of the Accord package, written into every backup's manifest. */
export function accordVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    cached = '0.0.0';
  }
  return cached;
}
