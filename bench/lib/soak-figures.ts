/**
 * The arithmetic of --soak: percentiles of latencies, least-squares slopes of memory samples,
 * and the windows the p99 drift is measured over.
 */

/** Nearest-rank percentile (`p` in 0-100) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Least-squares slope of y over x; NaN with fewer than two distinct x. */
export function slope(points: readonly { readonly x: number; readonly y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.x - meanX) * (p.y - meanY);
    variance += (p.x - meanX) ** 2;
  }
  return variance === 0 ? Number.NaN : covariance / variance;
}

/**
 * The warm-up and the two windows whose request p99 are compared: two minutes of warm-up and
 * minutes for a soak of ten minutes or more; for shorter soaks, a fifth of the run and at most
 * half of what follows, so the two windows never overlap.
 */
export function soakWindows(seconds: number): { warmupSeconds: number; windowSeconds: number; first: [number, number]; last: [number, number] } {
  const warmupSeconds = Math.min(120, seconds / 5);
  const windowSeconds = Math.min(60, (seconds - warmupSeconds) / 2);
  return {
    warmupSeconds,
    windowSeconds,
    first: [warmupSeconds, warmupSeconds + windowSeconds],
    last: [seconds - windowSeconds, seconds],
  };
}
