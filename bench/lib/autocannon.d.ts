/** The part of autocannon's API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  interface Histogram {
    readonly average: number;
    readonly total: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
  }
  interface Result {
    readonly requests: Histogram;
    readonly latency: Histogram;
    readonly duration: number;
    readonly non2xx: number;
    readonly errors: number;
    readonly timeouts: number;
  }
  interface Options {
    /** Several URLs: connection i goes to url[i % url.length]. */
    readonly url: string | readonly string[];
    readonly connections?: number;
    readonly duration?: number;
    readonly requests?: readonly Record<string, unknown>[];
  }
  interface Instance {
    stop(): void;
  }
  function autocannon(options: Options, callback: (error: Error | null | undefined, result: Result) => void): Instance;
  export default autocannon;
}
