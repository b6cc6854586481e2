import { sql } from 'drizzle-orm';
import type { AuditEventInput } from '../../src/audit/index.js';
import { rowsOf, type Db } from '../../src/db/index.js';

/** A READ event as the GraphQL layer would write it. */
export function readEvent(n: number, change: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    requestId: `req-${n}`,
    actorOrg: 'westminster',
    actorUser: `worker-${n}`,
    actorRoles: ['social-worker'],
    purpose: 'safeguarding-children',
    caseRef: 'WCC-42',
    action: 'READ',
    ownerOrg: 'kensington-chelsea',
    recordType: 'Demographics',
    recordId: `rec-${n}`,
    nhsNumber: '9434765919',
    fields: ['givenName', 'familyName'],
    agreements: [{ id: 'triborough-mash-children', version: 1, payloadHash: 'ab'.repeat(32) }],
    outcome: 'SUCCESS',
    operationName: 'Subject',
    queryHash: 'cd'.repeat(32),
    sensitivity: 'personal',
    ...change,
  };
}

export async function seqs(db: Db): Promise<number[]> {
  return rowsOf<{ seq: number }>(await db.execute(sql`select seq::float8 as seq from audit_events order by seq`)).map((r) => r.seq);
}

export function oneTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
