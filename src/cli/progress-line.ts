import type { CliContext } from './context.js';

/**
 * A one-line progress indicator on stderr, drawn only when stderr is a terminal: redirected to
 * a file or a pipe, carriage returns would only fill the log. Stdout stays for the result.
 */
export function progressLine(context: CliContext): { update(text: string): void; done(): void } {
  const terminal = process.stderr.isTTY === true;
  let drawn = false;
  let lastDrawnAt = 0;
  return {
    update(text) {
      if (!terminal) return;
      const now = Date.now();
      // A redraw per page is plenty; more would cost more than the work it reports on.
      if (drawn && now - lastDrawnAt < 100) return;
      lastDrawnAt = now;
      drawn = true;
      context.io.stderr(`\r\x1b[2K${text}`);
    },
    done() {
      if (drawn) context.io.stderr('\r\x1b[2K');
      drawn = false;
    },
  };
}
