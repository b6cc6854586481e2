import type { AuditEventInput, StoredAuditEvent } from '../../audit/index.js';
import type { Tx } from '../../db/index.js';
import type { RequestContext } from '../context.js';

/**
 * The audit side of a write (publish, retract, agreement submit or revoke): `afterWrite` goes to
 * the write as its in-transaction hook and appends the write's events in the same transaction,
 * so if they cannot be committed neither is the write (CONTRACT §7); `committed` is called once
 * the write has returned, to count the events towards the next signed checkpoint.
 */
export function auditedWrite<W>(
  context: RequestContext,
  eventsOf: (written: W) => readonly AuditEventInput[],
): { afterWrite: (tx: Tx, written: W) => Promise<void>; committed: () => void } {
  let stored: StoredAuditEvent[] = [];
  return {
    afterWrite: async (tx, written) => {
      stored = await context.services.audit.appendInTransaction(tx, eventsOf(written));
    },
    committed: () => context.services.audit.committed(stored),
  };
}
