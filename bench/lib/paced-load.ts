/**
 * An evenly paced load for long runs (--soak, the load-balancer check): request n is due at
 * start + n / rate, sent by one of `concurrency` workers, each response checked by the request's
 * own `check`. autocannon (load.ts) measures capacity; it paces a capped rate by letting every
 * connection send its quota at the top of each second, and a soak wants an even rate, so that a
 * latency trend is the hub's and not the pacing's. Bounded in count (rate × duration) and time.
 */

/** One request to send, built just before it is due (so its token is fresh). */
export interface PacedRequest {
  /** Label in the figures, e.g. 'read', 'publish', 'agreement'. */
  readonly kind: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Undefined when the response is as expected, otherwise what is wrong with it. */
  check(status: number, body: string): string | undefined;
}

export interface PacedResult {
  readonly kind: string;
  /** When the response ended, ms since the start of the run. */
  readonly endedMs: number;
  readonly latencyMs: number;
  /** Undefined for a good response. */
  readonly problem: string | undefined;
}

export interface PacedLoadOptions {
  /** Full URL every request is POSTed to (127.0.0.1 only). */
  readonly url: string;
  readonly ratePerSecond: number;
  readonly concurrency: number;
  readonly durationSeconds: number;
  /** Per request; a request still running then counts as a problem. Default 30 s (the hub's own limit). */
  readonly timeoutMs?: number;
  nextRequest(n: number): Promise<PacedRequest>;
  onResult(result: PacedResult): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves with the number of requests sent once the last one has answered. */
export async function runPacedLoad(options: PacedLoadOptions): Promise<number> {
  const { hostname } = new URL(options.url);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost') throw new TypeError(`the paced load only targets loopback (got ${hostname})`);
  const started = performance.now();
  const deadline = started + options.durationSeconds * 1000;
  const total = Math.floor(options.ratePerSecond * options.durationSeconds);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let next = 0;
  let sentCount = 0;

  async function worker(): Promise<void> {
    for (let n = next++; n < total; n = next++) {
      const due = started + (n * 1000) / options.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (performance.now() >= deadline) return;
      const request = await options.nextRequest(n);
      const sent = performance.now();
      sentCount += 1;
      let problem: string | undefined;
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        problem = request.check(response.status, await response.text());
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
        problem = error instanceof Error && error.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : `network error${cause || `: ${String(error)}`}`;
      }
      const ended = performance.now();
      options.onResult({ kind: request.kind, endedMs: ended - started, latencyMs: ended - sent, problem });
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return sentCount;
}
