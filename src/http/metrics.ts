/**
 * A minimal Prometheus registry: counters and one latency histogram, rendered in the text
 * exposition format for `GET /metrics`. Labels are fixed small sets (outcome, action), never
 * caller-supplied values, so cardinality stays bounded.
 */
export class Metrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();
  readonly #buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  readonly #histogram = { counts: new Array<number>(11).fill(0), sum: 0, count: 0 };

  inc(name: string, help: string, labels: Record<string, string> = {}, by = 1): void {
    let counter = this.#counters.get(name);
    if (counter === undefined) {
      counter = { help, values: new Map() };
      this.#counters.set(name, counter);
    }
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',');
    counter.values.set(key, (counter.values.get(key) ?? 0) + by);
  }

  observeRequestSeconds(seconds: number): void {
    const index = this.#buckets.findIndex((b) => seconds <= b);
    this.#histogram.counts[index === -1 ? this.#buckets.length : index]! += 1;
    this.#histogram.sum += seconds;
    this.#histogram.count += 1;
  }

  render(gauges: Record<string, { help: string; value: number }> = {}): string {
    const lines: string[] = [];
    for (const [name, { help, values }] of this.#counters) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of values) lines.push(`${name}${labels === '' ? '' : `{${labels}}`} ${value}`);
    }
    for (const [name, { help, value }] of Object.entries(gauges)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    }
    const h = 'accord_graphql_request_duration_seconds';
    lines.push(`# HELP ${h} GraphQL request duration`, `# TYPE ${h} histogram`);
    let cumulative = 0;
    this.#buckets.forEach((bound, i) => {
      cumulative += this.#histogram.counts[i]!;
      lines.push(`${h}_bucket{le="${bound}"} ${cumulative}`);
    });
    lines.push(`${h}_bucket{le="+Inf"} ${this.#histogram.count}`, `${h}_sum ${this.#histogram.sum}`, `${h}_count ${this.#histogram.count}`);
    return `${lines.join('\n')}\n`;
  }
}
