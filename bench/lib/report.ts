/**
 * Summaries of the runs and the table printed on stdout.
 */
import type { LoadResult } from './load.js';
import type { Scenario, ScenarioId, Side } from './scenarios.js';

export interface RunRecord {
  readonly round: number;
  readonly scenario: ScenarioId;
  /** 'baseline', 'accord', or 'accord-<ablations>' for an ablated hub. */
  readonly side: Side | `accord-${string}`;
  readonly result: LoadResult;
  /** Server process CPU time (user + system) per request: what one request costs the hub. */
  readonly cpuMicrosPerRequest: number;
  /** PostgreSQL backends of the bench database (and the WAL writer), per request. */
  readonly postgresCpuMicrosPerRequest: number | undefined;
  readonly loadGeneratorCpuMicrosPerRequest: number;
  readonly rssBytes: number;
  readonly auditEventsPerRequest: number;
  readonly tokensMinted: number;
}

export interface SideSummary {
  /** All requests of all rounds over all measured seconds. */
  readonly rps: number;
  /** Mean over rounds of each run's percentile. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerRequest: number;
  readonly postgresCpuMicrosPerRequest: number;
  readonly failures: number;
}

export interface ScenarioSummary {
  readonly id: ScenarioId;
  readonly title: string;
  readonly baseline: SideSummary;
  readonly accord: SideSummary;
  readonly rpsRatio: number;
  readonly rpsTarget: number;
  readonly p99Ratio: number;
  readonly p99Target: number;
  readonly met: boolean;
  readonly auditEventsPerRequest: number;
}

export interface Summary {
  readonly scenarios: readonly ScenarioSummary[];
  /** (d) against (b), hub side: req/s ratio, target ≥ 0.95. */
  readonly dVersusB?: { readonly rpsRatio: number; readonly normalisedRatio: number; readonly target: number; readonly met: boolean };
  /** Ablated hub variants (measuring instruments): req/s against the baseline and against the full hub. */
  readonly ablations?: readonly (SideSummary & { readonly variant: string; readonly scenario: ScenarioId; readonly rpsRatio: number; readonly versusHub: number })[];
  readonly allMet: boolean;
}

const rpsTargets: Readonly<Record<ScenarioId, number>> = { a: 0.95, b: 0.9, c: 0.9, d: 0.9 };
const p99Target = 1.15;

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function sideSummary(runs: readonly RunRecord[]): SideSummary {
  const requests = runs.reduce((sum, r) => sum + r.result.requests, 0);
  const seconds = runs.reduce((sum, r) => sum + r.result.seconds, 0);
  return {
    rps: requests / seconds,
    p50Ms: mean(runs.map((r) => r.result.p50Ms)),
    p99Ms: mean(runs.map((r) => r.result.p99Ms)),
    cpuMicrosPerRequest: runs.reduce((sum, r) => sum + r.cpuMicrosPerRequest * r.result.requests, 0) / Math.max(1, requests),
    postgresCpuMicrosPerRequest: runs.reduce((sum, r) => sum + (r.postgresCpuMicrosPerRequest ?? Number.NaN) * r.result.requests, 0) / Math.max(1, requests),
    failures: runs.reduce((sum, r) => sum + r.result.non2xx + r.result.errors + (r.result.exhausted ? 1 : 0), 0),
  };
}

export function summarise(runs: readonly RunRecord[], selected: readonly Scenario[]): Summary {
  const list: ScenarioSummary[] = selected.map((scenario) => {
    const of = (side: Side) => runs.filter((r) => r.scenario === scenario.id && r.side === side);
    const baseline = sideSummary(of('baseline'));
    const accord = sideSummary(of('accord'));
    const rpsRatio = accord.rps / baseline.rps;
    const p99Ratio = accord.p99Ms / baseline.p99Ms;
    const rpsTarget = rpsTargets[scenario.id];
    return {
      id: scenario.id,
      title: scenario.title,
      baseline,
      accord,
      rpsRatio,
      rpsTarget,
      p99Ratio,
      p99Target,
      met: rpsRatio >= rpsTarget && p99Ratio <= p99Target && accord.failures === 0 && baseline.failures === 0,
      auditEventsPerRequest: mean(of('accord').map((r) => r.auditEventsPerRequest)),
    };
  });
  const b = list.find((s) => s.id === 'b');
  const d = list.find((s) => s.id === 'd');
  const dVersusB =
    b !== undefined && d !== undefined
      ? {
          rpsRatio: d.accord.rps / b.accord.rps,
          normalisedRatio: d.rpsRatio / b.rpsRatio,
          target: 0.95,
          met: d.accord.rps / b.accord.rps >= 0.95,
        }
      : undefined;
  const allMet = list.every((s) => s.met) && (dVersusB?.met ?? true);
  const variants = [...new Set(runs.map((r) => r.side).filter((side) => side.startsWith('accord-')))];
  const ablations = variants.flatMap((variant) =>
    list.map((s) => {
      const summary = sideSummary(runs.filter((r) => r.scenario === s.id && r.side === variant));
      return { variant: variant.slice('accord-'.length), scenario: s.id, ...summary, rpsRatio: summary.rps / s.baseline.rps, versusHub: summary.rps / s.accord.rps };
    }),
  );
  return { scenarios: list, ...(dVersusB === undefined ? {} : { dVersusB }), ...(ablations.length === 0 ? {} : { ablations }), allMet };
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

export function formatReport(summary: Summary, context: { machine: Record<string, unknown>; settings: Record<string, unknown> }): string {
  const n = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  const lines: string[] = [];
  const header = ['scenario', 'side', 'req/s', 'p50 ms', 'p99 ms', 'node µs/req', 'pg µs/req', 'ratio req/s', 'target', 'ratio p99', 'target', 'met'];
  const widths = [50, 9, 8, 8, 8, 11, 10, 12, 8, 10, 8, 4];
  const row = (cells: string[]) => cells.map((c, i) => pad(c, widths[i] as number, i >= 2)).join(' ').trimEnd();
  lines.push('');
  lines.push(row(header));
  lines.push('-'.repeat(widths.reduce((a, b) => a + b + 1, 0)));
  for (const s of summary.scenarios) {
    const title = `(${s.id}) ${s.title}`.slice(0, 50);
    lines.push(
      row([title, 'baseline', n(s.baseline.rps), n(s.baseline.p50Ms, 1), n(s.baseline.p99Ms, 1), n(s.baseline.cpuMicrosPerRequest), n(s.baseline.postgresCpuMicrosPerRequest)]),
    );
    lines.push(
      row([
        '',
        'accord',
        n(s.accord.rps),
        n(s.accord.p50Ms, 1),
        n(s.accord.p99Ms, 1),
        n(s.accord.cpuMicrosPerRequest),
        n(s.accord.postgresCpuMicrosPerRequest),
        n(s.rpsRatio, 3),
        `≥ ${s.rpsTarget.toFixed(2)}`,
        n(s.p99Ratio, 3),
        `≤ ${s.p99Target.toFixed(2)}`,
        s.met ? 'yes' : 'NO',
      ]),
    );
    if (s.baseline.failures + s.accord.failures > 0) lines.push(`  !! failures: baseline ${s.baseline.failures}, accord ${s.accord.failures}`);
  }
  if (summary.dVersusB !== undefined) {
    const d = summary.dVersusB;
    lines.push('');
    lines.push(
      `(d) vs (b), hub req/s: ${n(d.rpsRatio, 3)} (target ≥ ${d.target.toFixed(2)}: ${d.met ? 'met' : 'NOT met'}); ` +
        `normalised by each scenario's baseline: ${n(d.normalisedRatio, 3)}`,
    );
  }
  if (summary.ablations !== undefined) {
    lines.push('');
    lines.push('ablations (measuring instruments, never production): what the hub does with a stage switched off');
    lines.push(row(['variant', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'node µs/req', 'pg µs/req', 'vs baseline', '', 'vs hub']));
    for (const a of summary.ablations) {
      lines.push(
        row([
          `hub, ${a.variant}`,
          `(${a.scenario})`,
          n(a.rps),
          n(a.p50Ms, 1),
          n(a.p99Ms, 1),
          n(a.cpuMicrosPerRequest),
          n(a.postgresCpuMicrosPerRequest),
          n(a.rpsRatio, 3),
          '',
          n(a.versusHub, 3),
        ]),
      );
    }
  }
  lines.push('');
  lines.push(`audit events written per hub request: ${summary.scenarios.map((s) => `(${s.id}) ${n(s.auditEventsPerRequest, 1)}`).join(', ')}`);
  lines.push(`settings: ${JSON.stringify(context.settings)}`);
  lines.push(`machine:  ${JSON.stringify(context.machine)}`);
  lines.push(summary.allMet ? 'all targets met' : 'targets NOT all met (see docs/performance.md for where the time goes)');
  return lines.join('\n');
}
