/**
 * Bulk loading with PostgreSQL COPY (text format) through postgres.js: rows are streamed as
 * tab-separated lines in chunks, with progress on stderr. Values the generators produce never
 * contain tabs, newlines or backslashes, but they are escaped anyway so the loader cannot
 * silently write something else.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';
import { progress } from './progress.js';

export type CopyValue = string | number | boolean | null | undefined;

function field(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  const text = String(value);
  return /[\t\n\r\\]/.test(text) ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : text;
}

export interface CopyOptions {
  readonly label: string;
  /** Expected number of rows, for the progress line. */
  readonly total: number;
}

/** COPYs `rows` into `table (columns)`; resolves with the number of rows written. */
export async function copyRows(sql: postgres.Sql, table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>, options: CopyOptions): Promise<number> {
  const shown = progress(options.label, options.total);
  let count = 0;
  function* chunks(): Generator<string> {
    let chunk = '';
    for (const row of rows) {
      let line = '';
      for (let i = 0; i < row.length; i += 1) line += (i === 0 ? '' : '\t') + field(row[i]);
      chunk += `${line}\n`;
      count += 1;
      if (chunk.length >= 1 << 18) {
        yield chunk;
        chunk = '';
        shown.update(count);
      }
    }
    if (chunk !== '') yield chunk;
  }
  const writable = await sql.unsafe(`copy ${table} (${columns.map((c) => `"${c}"`).join(', ')}) from stdin`).writable();
  await pipeline(Readable.from(chunks()), writable);
  shown.finish(count);
  return count;
}
