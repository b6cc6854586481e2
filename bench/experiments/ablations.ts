/**
 * Ablations: switch one stage of the hub's request path off (or make it free) in a benchmark
 * process, to measure end to end what that stage costs. They are measuring instruments, not
 * optimisations: each one breaks a promise of CONTRACT.md and is never used outside `bench/`.
 * Applied by server-process.ts from BENCH_ABLATIONS=name,name after createApp, by swapping
 * services the request pipeline reads at request time.
 *
 * - `replay-memory`: the replay guard answers from memory only (no INSERT per request). Upper
 *   bound of what moving the jti claim off the request's critical path (into the audit batch)
 *   can buy.
 * - `generations-cached`: the per-request `hub_state` generation reads (organisation keys and
 *   decision index) are skipped after the first load. Upper bound of a change-notification
 *   design (LISTEN/NOTIFY) or of one combined read.
 * - `audit-off`: audit appends resolve at once without writing. Upper bound of the audit cost
 *   (events still built, hashing and writing skipped).
 */
import { createMemoryReplayGuard } from '../../src/auth/index.js';
import type { HubServices } from '../../src/services.js';

export const ablationNames = ['replay-memory', 'generations-cached', 'audit-off'] as const;
export type Ablation = (typeof ablationNames)[number];

export function parseAblations(raw: string | undefined): Ablation[] {
  const names = (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) if (!(ablationNames as readonly string[]).includes(name)) throw new Error(`unknown ablation ${name} (known: ${ablationNames.join(', ')})`);
  return names as Ablation[];
}

export async function applyAblations(services: HubServices, ablations: readonly Ablation[]): Promise<void> {
  const mutable = services as { -readonly [K in keyof HubServices]: HubServices[K] };
  for (const ablation of ablations) {
    switch (ablation) {
      case 'replay-memory':
        mutable.replay = createMemoryReplayGuard(services.clock);
        break;
      case 'generations-cached': {
        await services.keys.refresh();
        await services.decisionIndex.refresh();
        const keys = services.keys;
        const index = services.decisionIndex;
        mutable.keys = Object.assign(Object.create(keys) as typeof keys, { refresh: async () => undefined });
        mutable.decisionIndex = Object.assign(Object.create(index) as typeof index, { refresh: async () => undefined });
        break;
      }
      case 'audit-off': {
        const audit = services.audit;
        mutable.audit = { ...audit, append: async () => [] } as typeof audit;
        break;
      }
    }
  }
}
