/**
 * Figures read from a running hub process from outside: its RSS from /proc, and gauges and
 * counters from its `GET /metrics` (Prometheus text format).
 */
import fs from 'node:fs';

/** The process's resident set size, from /proc/<pid>/status (VmRSS); undefined where unreadable. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Every sample of a Prometheus text exposition, keyed by series (`name` or `name{labels}`). */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (space > 0 && Number.isFinite(value)) samples.set(line.slice(0, space), value);
  }
  return samples;
}

/** The hub's /metrics samples; an empty map when it does not answer within `timeoutMs`. */
export async function fetchMetrics(baseUrl: string, timeoutMs = 2_000): Promise<Map<string, number>> {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? parseMetrics(await response.text()) : new Map();
  } catch {
    return new Map();
  }
}

/** The sum of every series of counter `name` (all label sets). */
export function counterTotal(samples: ReadonlyMap<string, number>, name: string): number {
  let total = 0;
  for (const [series, value] of samples) if (series === name || series.startsWith(`${name}{`)) total += value;
  return total;
}
