import { auditCursor, auditIntegrity, queryAuditEvents, subjectAccessReport, type AuditScope, type StoredAuditEvent } from '../../audit/index.js';
import { hasRole, isHubAdmin } from '../../auth/caller.js';
import { AccordError } from '../../errors.js';
import type { RequestContext } from '../context.js';
import { actorOf } from './actor.js';

/**
 * Who may read which events: a `dpo` sees events where its organisation is the actor or the
 * owner; the hub operator's `hub-admin` sees all; anyone else is refused (CONTRACT §7).
 */
function auditScopeOf(context: RequestContext): AuditScope {
  if (isHubAdmin(context.caller)) return { allOrgs: true };
  if (hasRole(context.caller, 'dpo')) return { org: context.caller.org };
  throw new AccordError('FORBIDDEN', 'reading the audit trail needs the dpo role');
}

/** Reading the audit trail is itself audited, as an ADMIN event naming what was asked. */
function auditRead(context: RequestContext, what: string, details: Record<string, string | number | null>, nhsNumber?: string): void {
  context.events.push({
    ...actorOf(context),
    action: 'ADMIN',
    outcome: 'SUCCESS',
    nhsNumber: nhsNumber ?? null,
    details: { operation: what, ...details },
  });
}

export const auditResolvers = {
  Query: {
    auditEvents: async (
      _: unknown,
      args: { filter?: Record<string, unknown> | null; first?: number | null; after?: string | null },
      context: RequestContext,
    ) => {
      const scope = auditScopeOf(context);
      const filter = Object.fromEntries(Object.entries(args.filter ?? {}).filter(([, v]) => v !== null && v !== undefined));
      const page = await queryAuditEvents(context.services.db, {
        scope,
        filter,
        ...(args.first == null ? {} : { first: args.first }),
        ...(args.after == null ? {} : { after: args.after }),
      });
      auditRead(context, 'auditEvents', { filter: JSON.stringify(filter), returned: page.events.length });
      return {
        edges: page.events.map((event) => ({ cursor: auditCursor(event.seq), node: event })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor ?? null },
      };
    },
    subjectAccessReport: async (_: unknown, args: { nhsNumber: string }, context: RequestContext) => {
      const scope = auditScopeOf(context);
      const events = await subjectAccessReport(context.services.db, { scope, nhsNumber: args.nhsNumber });
      auditRead(context, 'subjectAccessReport', { returned: events.length }, args.nhsNumber);
      return events;
    },
    auditIntegrity: async (_: unknown, __: unknown, context: RequestContext) => {
      auditScopeOf(context);
      // Incremental: only events appended since the last verification are recomputed.
      const integrity = await auditIntegrity(context.services.db, { lastVerification: await context.services.verifier.verify() });
      auditRead(context, 'auditIntegrity', {});
      return integrity;
    },
  },
  AuditEvent: {
    seq: (event: StoredAuditEvent) => String(event.seq),
  },
  AuditCheckpoint: {
    seq: (checkpoint: { seq: number }) => String(checkpoint.seq),
  },
  AuditIntegrity: {
    headSeq: (integrity: { headSeq: number }) => String(integrity.headSeq),
    verifiedUpTo: (integrity: { verifiedUpTo: number }) => String(integrity.verifiedUpTo),
  },
};
