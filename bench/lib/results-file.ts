/**
 * The results JSON (bench/results/latest.json by default) is shared by several kinds of run: the
 * comparison owns its top-level keys, --soak the `soak` key, --instances the `instances` key.
 * Each writes only its own keys, keeping whatever the others wrote (read, merge, write).
 */
import fs from 'node:fs';
import path from 'node:path';

export const defaultResultsFile = path.join('bench', 'results', 'latest.json');

/** Merges `keys` into the JSON object in `file` (created when missing or unreadable). */
export function writeResultKeys(file: string, keys: Readonly<Record<string, unknown>>): void {
  let existing: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) existing = parsed as Record<string, unknown>;
  } catch {
    existing = {};
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify({ ...existing, ...keys }, null, 2)}\n`);
  // A rename, so a reader (or a run interrupted half-way) never sees half a file.
  fs.renameSync(temporary, file);
}
