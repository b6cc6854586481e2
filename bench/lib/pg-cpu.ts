/**
 * CPU time PostgreSQL spends for the benchmark: the backends connected to the bench database
 * plus the WAL writer, read from /proc (the server runs on this machine). Clock-tick resolution
 * (10 ms), plenty over a run of seconds. Returns undefined where /proc is not readable.
 */
import fs from 'node:fs';
import type postgres from 'postgres';

const ticksPerSecond = 100;

function cpuTicksOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

export async function postgresCpuMicros(sql: postgres.Sql): Promise<number | undefined> {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  const rows = await sql`select pid from pg_stat_activity where datname = current_database() or backend_type = 'walwriter'`;
  let ticks = 0;
  for (const row of rows) ticks += cpuTicksOf(Number(row.pid));
  return (ticks * 1_000_000) / ticksPerSecond;
}
