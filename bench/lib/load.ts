/**
 * One bounded load run with autocannon against a server on loopback.
 */
import autocannon from 'autocannon';
import type { RawRequest } from './scenarios.js';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  /** The token pool ran out and the run was cut short (its figures are not comparable). */
  readonly exhausted: boolean;
}

export interface LoadOptions {
  /** Several URLs: autocannon spreads the connections round-robin over them. */
  readonly url: string | readonly string[];
  readonly connections: number;
  readonly durationSeconds: number;
  readonly setupRequest: (request: RawRequest) => RawRequest;
}

export interface LoadRun {
  /** Ends the run early (pool exhausted). */
  stop(): void;
  readonly result: Promise<LoadResult>;
}

export function runLoad(options: LoadOptions): LoadRun {
  let exhausted = false;
  let instance: ReturnType<typeof autocannon> | undefined;
  const result = new Promise<LoadResult>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        requests: [{ method: 'POST', path: '/graphql', setupRequest: options.setupRequest as never }],
      },
      (error, raw) => {
        if (error !== null && error !== undefined) return reject(error);
        resolve({
          requests: raw.requests.total,
          seconds: raw.duration,
          rps: raw.requests.total / raw.duration,
          p50Ms: raw.latency.p50,
          p90Ms: raw.latency.p90,
          p99Ms: raw.latency.p99,
          non2xx: raw.non2xx,
          errors: raw.errors,
          exhausted,
        });
      },
    );
  });
  return {
    stop() {
      exhausted = true;
      (instance as unknown as { stop(): void } | undefined)?.stop();
    },
    result,
  };
}
