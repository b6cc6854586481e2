/**
 * Progress on stderr, so stdout carries only the results: one line rewritten in place on a
 * terminal, a line every few seconds otherwise (CI logs).
 */
const interactive = process.stderr.isTTY === true;

export interface Progress {
  /** Reports `done` of `total` units (throttled). */
  update(done: number): void;
  /** Final line with the rate. */
  finish(done?: number): void;
}

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function progress(label: string, total: number, unit = 'rows'): Progress {
  const started = performance.now();
  let last = 0;
  let current = 0;
  const line = (done: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const percent = total > 0 ? ` ${((100 * done) / total).toFixed(0)}%` : '';
    return `${label}: ${done.toLocaleString('en-GB')}/${total.toLocaleString('en-GB')} ${unit}${percent} (${rate.toLocaleString('en-GB')} ${unit}/s, ${seconds.toFixed(1)} s)`;
  };
  return {
    update(done) {
      current = done;
      const now = performance.now();
      if (now - last < (interactive ? 200 : 5_000)) return;
      last = now;
      if (interactive) process.stderr.write(`\r${line(done)}\u001b[K`);
      else log(line(done));
    },
    finish(done = current) {
      if (interactive) process.stderr.write(`\r${line(done)}\u001b[K\n`);
      else log(line(done));
    },
  };
}
