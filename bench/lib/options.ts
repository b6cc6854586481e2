/**
 * Command-line options of `npm run bench -- [options]`.
 */
import { parseArgs } from 'node:util';
import type { ScenarioId } from './scenarios.js';
import { defaultDatabaseUrl } from './bench-database.js';

export interface BenchOptions {
  readonly mode: 'compare' | 'scale' | 'profile' | 'soak' | 'instances';
  readonly databaseUrl: string;
  readonly scenarios: readonly ScenarioId[];
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly fillerAgreements: number;
  /** --scale: records in the record tables and events in the audit trail. */
  readonly scaleRecords: number;
  readonly scaleEvents: number;
  readonly quick: boolean;
  /** Extra hub variants measured in the same alternation, each a list of ablations. */
  readonly ablations: readonly (readonly string[])[];
  /** --soak: how long the soak runs, and the request rate it holds. */
  readonly soakSeconds: number;
  readonly soakRate: number;
  /** Where the results JSON goes (default bench/results/latest.json; --scale: scale.json; --profile: profile.json). */
  readonly out: string | undefined;
}

export const usage = `npm run bench -- [options]

  (no option)          compare the hub with the bare Apollo baseline and with a hand-rolled peer
                       (bare Apollo + jose JWT check + one audit INSERT per request):
                       scenarios a-d, in alternation
  --quick              short runs (1 round, 1 s warm-up, 4 s measured)
  --scenario a,b       only these scenarios (repeatable)
  --rounds N           alternating rounds (default 2)
  --duration S         measured seconds per run (default 10)
  --warmup S           warm-up seconds per run (default 3)
  --connections N      concurrent connections of the load generator (default 16)
  --scale              scale figures: RSS with 10,000 agreements and 1,000,000 records,
                       subjectAccessReport over 10,000,000 audit events, audit verify events/s
  --records N          --scale: records (default 1000000)
  --events N           --scale: audit events (default 10000000)
  --profile            CPU profile and SQL statements per request of the hub (scenarios a and b)
  --soak SECONDS       one hub under a steady mixed load (reads, 15% publishes, agreement changes)
                       for SECONDS: memory, event-loop delay and latency drift, a line every 30 s
  --rate N             --soak: requests per second held (default 40)
  --instances          req/s of a read scenario (default b) with 1 hub process, then 2 on the same
                       database, the load spread over both
  --ablations X,Y+Z    also measure hub variants with stages switched off, to price each stage
                       (audit-off; never production)
  --out FILE           results JSON (default bench/results/latest.json, scale.json, profile.json)

  DATABASE_URL         PostgreSQL server to use (default ${defaultDatabaseUrl}); the benchmark
                       creates its own database accord_bench_<random> there and drops it at the end.
`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number (got "${raw}")`);
  return value;
}

export function parseOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      scale: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      records: { type: 'string' },
      events: { type: 'string' },
      agreements: { type: 'string' },
      out: { type: 'string' },
      ablations: { type: 'string' },
      soak: { type: 'string' },
      rate: { type: 'string' },
      instances: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return 'help';
  const modes = [values.scale === true && 'scale', values.profile === true && 'profile', values.soak !== undefined && 'soak', values.instances === true && 'instances'].filter(
    (m): m is 'scale' | 'profile' | 'soak' | 'instances' => m !== false,
  );
  if (modes.length > 1) throw new Error(`choose one of --${modes.join(', --')}`);
  const mode = modes[0] ?? 'compare';
  const scenarios = (values.scenario ?? [mode === 'instances' ? 'b' : 'a,b,c,d']).flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase());
  for (const s of scenarios) if (!['a', 'b', 'c', 'd'].includes(s)) throw new Error(`--scenario must be among a, b, c, d (got "${s}")`);
  const quick = values.quick === true;
  return {
    mode,
    databaseUrl: env.DATABASE_URL !== undefined && env.DATABASE_URL !== '' ? env.DATABASE_URL : defaultDatabaseUrl,
    scenarios: [...new Set(scenarios)].sort() as ScenarioId[],
    rounds: Math.round(positive('rounds', values.rounds, quick ? 1 : 2)),
    durationSeconds: positive('duration', values.duration, quick ? 4 : 10),
    warmupSeconds: positive('warmup', values.warmup, quick ? 1 : 3),
    connections: Math.round(positive('connections', values.connections, 16)),
    fillerAgreements: Math.round(positive('agreements', values.agreements, 10_000)),
    scaleRecords: Math.round(positive('records', values.records, 1_000_000)),
    scaleEvents: Math.round(positive('events', values.events, 10_000_000)),
    quick,
    ablations: (values.ablations ?? '')
      .split(',')
      .map((variant) => variant.split('+').map((a) => a.trim()).filter((a) => a !== ''))
      .filter((variant) => variant.length > 0),
    soakSeconds: Math.round(positive('soak', values.soak, 600)),
    soakRate: positive('rate', values.rate, 40),
    out: values.out,
  };
}
