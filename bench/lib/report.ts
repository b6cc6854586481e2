/**
 * Summaries of the runs and the table printed on stdout.
 */
import type { LoadResult } from './load.js';
import type { Scenario, ScenarioId, Side } from './scenarios.js';

export interface RunRecord {
  readonly round: number;
  readonly scenario: ScenarioId;
  /** 'baseline', 'accord', 'peer' (hand-rolled), or 'accord-<ablations>' for an ablated hub. */
  readonly side: Side | `accord-${string}`;
  readonly result: LoadResult;
  /** Server process CPU time (user + system) per request: what one request costs the hub. */
  readonly cpuMicrosPerRequest: number;
  /** PostgreSQL backends of the bench database (and the WAL writer), per request. */
  readonly postgresCpuMicrosPerRequest: number | undefined;
  readonly loadGeneratorCpuMicrosPerRequest: number;
  readonly rssBytes: number;
  /** Hub: audit events appended per request; peer: rows inserted into its peer_audit table; baseline: 0. */
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

/** req/s and p99 of one side divided by another's. */
export interface Ratio {
  readonly rps: number;
  readonly p99: number;
}

export interface ScenarioSummary {
  readonly id: ScenarioId;
  readonly title: string;
  readonly baseline: SideSummary;
  readonly accord: SideSummary;
  /** The hand-rolled peer (absent when no peer run was made). */
  readonly peer?: SideSummary;
  /** Hub / baseline req/s (same as ratios.accordVsBaseline.rps). */
  readonly rpsRatio: number;
  readonly rpsTarget: number;
  /** Hub / baseline p99. */
  readonly p99Ratio: number;
  readonly p99Target: number;
  /** Hub / peer req/s target (issue 11); met only when a peer run was made and reached it. */
  readonly peerRpsTarget: number;
  /** Every target of the scenario: hub/bare req/s and p99, hub/peer req/s, no failures. */
  readonly met: boolean;
  readonly ratios: {
    readonly accordVsBaseline: Ratio;
    readonly accordVsPeer?: Ratio;
    readonly peerVsBaseline?: Ratio;
  };
  readonly auditEventsPerRequest: number;
  /** Owner organisations a read involves: audit events per read must not exceed it (issue 11). */
  readonly owners: number;
  /** Rows the peer inserted into peer_audit per request (1 by construction). */
  readonly peerAuditRowsPerRequest?: number;
}

export interface Summary {
  readonly scenarios: readonly ScenarioSummary[];
  /** (d) against (b), hub side: req/s ratio, target ≥ 0.95. */
  readonly dVersusB?: { readonly rpsRatio: number; readonly normalisedRatio: number; readonly target: number; readonly met: boolean };
  /** Ablated hub variants (measuring instruments): req/s against the baseline and against the full hub. */
  readonly ablations?: readonly (SideSummary & { readonly variant: string; readonly scenario: ScenarioId; readonly rpsRatio: number; readonly versusHub: number })[];
  readonly allMet: boolean;
}

// Issue 11's targets: hub/bare req/s, hub/peer req/s (the hand-rolled peer: bare Apollo + jose +
// one audit INSERT), and p99 against bare Apollo in every scenario. (d) has no bare target of its
// own: it must keep (b)'s rate with 10,000 agreements (dVersusB).
const rpsTargets: Readonly<Record<ScenarioId, number>> = { a: 0.75, b: 0.85, c: 0.85, d: 0 };
const peerRpsTargets: Readonly<Record<ScenarioId, number>> = { a: 1.1, b: 0.85, c: 0.85, d: 0.85 };
const p99Target = 1.5;

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
    const peerRuns = of('peer');
    const peer = peerRuns.length === 0 ? undefined : sideSummary(peerRuns);
    const ratio = (a: SideSummary, b: SideSummary): Ratio => ({ rps: a.rps / b.rps, p99: a.p99Ms / b.p99Ms });
    const accordVsBaseline = ratio(accord, baseline);
    const rpsRatio = accordVsBaseline.rps;
    const p99Ratio = accordVsBaseline.p99;
    const rpsTarget = rpsTargets[scenario.id];
    return {
      id: scenario.id,
      title: scenario.title,
      baseline,
      accord,
      ...(peer === undefined ? {} : { peer }),
      rpsRatio,
      rpsTarget,
      p99Ratio,
      p99Target,
      peerRpsTarget: peerRpsTargets[scenario.id],
      met:
        rpsRatio >= rpsTarget &&
        p99Ratio <= p99Target &&
        peer !== undefined &&
        accord.rps / peer.rps >= peerRpsTargets[scenario.id] &&
        accord.failures === 0 &&
        baseline.failures === 0,
      ratios: {
        accordVsBaseline,
        ...(peer === undefined ? {} : { accordVsPeer: ratio(accord, peer), peerVsBaseline: ratio(peer, baseline) }),
      },
      auditEventsPerRequest: mean(of('accord').map((r) => r.auditEventsPerRequest)),
      owners: scenario.owners,
      ...(peer === undefined ? {} : { peerAuditRowsPerRequest: mean(peerRuns.map((r) => r.auditEventsPerRequest)) }),
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
  const header = ['scenario', 'side', 'req/s', 'p50 ms', 'p99 ms', 'node µs/req', 'pg µs/req', 'hub/bare req/s', 'target', 'hub/bare p99', 'target', 'hub/peer req/s', 'target', 'met'];
  const widths = [50, 8, 7, 7, 7, 11, 9, 14, 7, 12, 7, 14, 7, 4];
  const row = (cells: string[]) => cells.map((c, i) => pad(c, widths[i] as number, i >= 2)).join(' ').trimEnd();
  const sideCells = (side: SideSummary) => [n(side.rps), n(side.p50Ms, 1), n(side.p99Ms, 1), n(side.cpuMicrosPerRequest), n(side.postgresCpuMicrosPerRequest)];
  const hasPeer = summary.scenarios.some((s) => s.peer !== undefined);
  lines.push('');
  lines.push(
    'bare: bare Apollo over the same data (no auth, no audit); ' +
      (hasPeer ? 'peer: bare Apollo + jose JWT verification + one audit INSERT per request (hand-rolled); ' : '') +
      'hub: Accord',
  );
  lines.push(row(header));
  lines.push('-'.repeat(widths.reduce((a, b) => a + b + 1, 0)));
  for (const s of summary.scenarios) {
    const title = `(${s.id}) ${s.title}`.slice(0, 50);
    lines.push(row([title, 'bare', ...sideCells(s.baseline)]));
    if (s.peer !== undefined) lines.push(row(['', 'peer', ...sideCells(s.peer)]));
    lines.push(
      row([
        '',
        'hub',
        ...sideCells(s.accord),
        n(s.rpsRatio, 3),
        s.rpsTarget > 0 ? `≥ ${s.rpsTarget.toFixed(2)}` : '(d/b)',
        n(s.p99Ratio, 3),
        `≤ ${s.p99Target.toFixed(2)}`,
        s.ratios.accordVsPeer === undefined ? '' : n(s.ratios.accordVsPeer.rps, 3),
        `≥ ${s.peerRpsTarget.toFixed(2)}`,
        s.met ? 'yes' : 'NO',
      ]),
    );
    const peerFailures = s.peer?.failures ?? 0;
    if (s.baseline.failures + s.accord.failures + peerFailures > 0) {
      lines.push(`  !! failures: baseline ${s.baseline.failures}, accord ${s.accord.failures}${s.peer === undefined ? '' : `, peer ${peerFailures}`}`);
    }
  }
  if (hasPeer) {
    lines.push('');
    lines.push(
      `peer vs bare: ${summary.scenarios
        .map((s) => (s.ratios.peerVsBaseline === undefined ? `(${s.id}) -` : `(${s.id}) req/s ${n(s.ratios.peerVsBaseline.rps, 3)}, p99 ${n(s.ratios.peerVsBaseline.p99, 3)}`))
        .join('; ')}`,
    );
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
  lines.push(
    `audit events written per hub request (target: at most the owners involved): ${summary.scenarios
      .map((s) => `(${s.id}) ${n(s.auditEventsPerRequest, 2)} for ${s.owners} owner${s.owners === 1 ? '' : 's'}${s.id === 'c' ? ' (publishes included)' : ''}`)
      .join(', ')}`,
  );
  if (hasPeer) lines.push(`peer_audit rows written per peer request: ${summary.scenarios.map((s) => `(${s.id}) ${n(s.peerAuditRowsPerRequest ?? Number.NaN, 1)}`).join(', ')}`);
  lines.push(`settings: ${JSON.stringify(context.settings)}`);
  lines.push(`machine:  ${JSON.stringify(context.machine)}`);
  lines.push(summary.allMet ? 'all targets met' : 'targets NOT all met (see docs/performance.md for where the time goes)');
  return lines.join('\n');
}
