/**
 * Ablations: switch one stage of the hub's request path off (or make it free) in a benchmark
 * process, to measure end to end what that stage costs. They are measuring instruments, not
 * optimisations: each one breaks a promise of CONTRACT.md and is never used outside `bench/`.
 * Applied by server-process.ts from BENCH_ABLATIONS=name,name after createApp, by swapping
 * services the request pipeline reads at request time.
 *
 * - `audit-off`: the request commit (token claim, generation check and audit append: the one
 *   round trip a read makes besides loading records) resolves at once without writing. Upper
 *   bound of what security costs on the database side (events still built; hashing, claiming
 *   and writing skipped).
 */
import type { HubServices } from '../../src/services.js';

export const ablationNames = ['audit-off'] as const;
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
      case 'audit-off': {
        const audit = services.audit;
        mutable.audit = { ...audit, append: async () => [], commit: async () => ({ status: 'committed', events: [] }) } as typeof audit;
        break;
      }
    }
  }
}
