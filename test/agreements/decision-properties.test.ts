/**
 * Properties of the decision index over random agreement sets, callers, instants and records,
 * checked against the reference model in arbitraries.ts (CONTRACT §4 read literally).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDecisionIndex } from '../../src/agreements/index.js';
import { allowedFields, scenarioArbitrary } from './arbitraries.js';

const scenario = scenarioArbitrary();

const runs = { numRuns: 1500 };

describe('decision properties', () => {
  it('never releases a field that no matching in-force scope entry lists', () => {
    fc.assert(
      fc.property(scenario, ({ agreements, caller, now, age, recordType, row }) => {
        const decision = buildDecisionIndex(agreements).forCaller(caller, now).decide(recordType, row, age);
        const allowed = allowedFields(agreements, caller, recordType, row, age, now);
        for (const field of decision.fields) expect(allowed.fields.has(field), `${field} released`).toBe(true);
        if (!decision.visible) expect(decision.fields.size).toBe(0);
      }),
      runs,
    );
  });

  it('releases exactly the union of the matching scopes, citing only agreements that matched', () => {
    fc.assert(
      fc.property(scenario, ({ agreements, caller, now, age, recordType, row }) => {
        const decision = buildDecisionIndex(agreements).forCaller(caller, now).decide(recordType, row, age);
        const allowed = allowedFields(agreements, caller, recordType, row, age, now);
        const owner = row.ownerOrg === caller.org;
        expect([...decision.fields].sort()).toEqual([...allowed.fields].sort());
        expect(decision.visible).toBe(owner || allowed.citable.size > 0);
        const cited = decision.sharedUnder.map((ref) => `${ref.id}@${ref.version}`);
        for (const ref of cited) expect(allowed.citable.has(ref)).toBe(true);
        expect(cited.length > 0).toBe(decision.visible && !owner);
        // Every field released is listed by a scope entry of an agreement it cites.
        const citedFields = new Set(
          agreements
            .filter((a) => cited.includes(`${a.document.id}@${a.document.version}`))
            .flatMap((a) => a.document.scope.filter((s) => s.recordType === recordType).flatMap((s) => s.fields)),
        );
        if (!owner) for (const field of decision.fields) expect(citedFields.has(field)).toBe(true);
        for (const field of decision.breakGlassFields) expect(decision.fields.has(field)).toBe(true);
        expect(decision.breakGlass).toBe(decision.breakGlassFields.size > 0);
        if (decision.breakGlass) expect(caller.breakGlass).toBeDefined();
      }),
      runs,
    );
  });

  it('the index is independent of the order agreements are given in', () => {
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.nat()), ({ agreements, caller, now, age, recordType, row }, seeds) => {
        const shuffled = [...agreements].sort(() => (seeds.next().value % 3) - 1);
        const a = buildDecisionIndex(agreements).forCaller(caller, now).decide(recordType, row, age);
        const b = buildDecisionIndex(shuffled).forCaller(caller, now).decide(recordType, row, age);
        expect([...b.fields].sort()).toEqual([...a.fields].sort());
        expect(b.visible).toBe(a.visible);
      }),
      { numRuns: 300 },
    );
  });
});
