import { decodeJwt } from 'jose';
import { decodeEnvelope, type AgreementStatus, type StoredAgreement, type WrittenAgreement } from '../../agreements/index.js';
import type { AuditEventInput } from '../../audit/index.js';
import { isHubAdmin } from '../../auth/caller.js';
import { AccordError, isAccordError } from '../../errors.js';
import type { RequestContext } from '../context.js';
import { actorOf } from './actor.js';
import { auditedWrite } from './audited-write.js';

function isParty(agreement: { provider: string; recipients: readonly string[] }, org: string): boolean {
  return agreement.provider === org || agreement.recipients.includes(org);
}

function visibleTo(context: RequestContext, agreement: StoredAgreement): boolean {
  return isHubAdmin(context.caller) || isParty(agreement, context.caller.org);
}

/** The parties named in an envelope's payload, read before verification only to decide who may submit it. */
function partiesOf(envelope: unknown): { provider: string; recipients: string[] } | undefined {
  try {
    const { document } = decodeEnvelope(envelope);
    const doc = document as { provider?: unknown; recipients?: { org?: unknown }[] };
    if (typeof doc.provider !== 'string' || !Array.isArray(doc.recipients)) return undefined;
    return { provider: doc.provider, recipients: doc.recipients.map((r) => String(r?.org)) };
  } catch {
    return undefined;
  }
}

/** The audit event of an agreement change, written in the change's own transaction. */
function agreementChange(context: RequestContext, action: 'AGREEMENT_SUBMIT' | 'AGREEMENT_REVOKE', details: (written: WrittenAgreement) => AuditEventInput['details']) {
  return auditedWrite(context, (written: WrittenAgreement): AuditEventInput[] => [
    {
      ...actorOf(context),
      action,
      outcome: 'SUCCESS',
      ownerOrg: written.provider,
      details: { agreement: { id: written.id, version: written.version, payloadHash: written.payloadHash }, ...details(written) },
    },
  ]);
}

/**
 * Runs an agreement change; a refusal (invalid, forbidden) is audited as a FAILURE event so a DPO
 * sees attempts, not only successes. The event names no owner: the caller may not be a party,
 * and its own DPO (who sees its events) must not learn whose agreement it tried to change.
 */
async function refusalsAudited<T>(context: RequestContext, action: 'AGREEMENT_SUBMIT' | 'AGREEMENT_REVOKE', change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (isAccordError(error) && error.code !== 'AUDIT_UNAVAILABLE') {
      context.events.push({
        ...actorOf(context),
        action,
        outcome: 'FAILURE',
        details: { code: error.code, reason: error.message.slice(0, 2000) },
      });
    }
    throw error;
  }
}

export const agreementResolvers = {
  Query: {
    agreements: (_: unknown, args: { status?: AgreementStatus | null }, context: RequestContext) =>
      context.services.agreements.list({
        party: isHubAdmin(context.caller) ? undefined : context.caller.org,
        status: args.status ?? undefined,
      }),
    agreement: async (_: unknown, args: { id: string; version?: number | null }, context: RequestContext) => {
      const agreement = await context.services.agreements.get(args.id, args.version ?? undefined);
      // Not a party: answered exactly as "no such agreement", so ids of others' agreements leak nothing.
      return agreement !== undefined && visibleTo(context, agreement) ? agreement : null;
    },
  },
  Mutation: {
    submitAgreement: async (_: unknown, args: { envelope: unknown }, context: RequestContext) => {
      const parties = partiesOf(args.envelope);
      return refusalsAudited(context, 'AGREEMENT_SUBMIT', async () => {
        if (parties !== undefined && !isHubAdmin(context.caller) && !isParty(parties, context.caller.org)) {
          throw new AccordError('FORBIDDEN', 'only a party to an agreement (or the hub operator) may submit it');
        }
        const audited = agreementChange(context, 'AGREEMENT_SUBMIT', (written) => ({ title: written.title }));
        const stored = await context.services.agreements.submit(args.envelope, context.caller.org, audited.afterWrite);
        audited.committed();
        return stored;
      });
    },
    revokeAgreement: async (_: unknown, args: { revocation: string }, context: RequestContext) =>
      refusalsAudited(context, 'AGREEMENT_REVOKE', async () => {
        let target: { agreement?: unknown; version?: unknown } = {};
        try {
          target = decodeJwt(args.revocation) as typeof target;
        } catch {
          throw new AccordError('INVALID_AGREEMENT', 'the revocation is not a compact JWS');
        }
        if (typeof target.agreement === 'string' && typeof target.version === 'number' && !isHubAdmin(context.caller)) {
          const agreement = await context.services.agreements.get(target.agreement, target.version);
          if (agreement === undefined || !isParty(agreement, context.caller.org)) {
            throw new AccordError('FORBIDDEN', 'only a party to an agreement (or the hub operator) may revoke it');
          }
        }
        const audited = agreementChange(context, 'AGREEMENT_REVOKE', (written) => ({
          revokedBy: written.revocation?.by ?? null,
          reason: written.revocation?.reason ?? null,
        }));
        const revoked = await context.services.agreements.revoke(args.revocation, audited.afterWrite);
        audited.committed();
        return revoked;
      }),
  },
  Agreement: {
    provider: (agreement: StoredAgreement, _: unknown, context: RequestContext) => context.organisation(agreement.provider),
    recipients: (agreement: StoredAgreement, _: unknown, context: RequestContext) =>
      agreement.document.recipients.map((recipient) => ({
        organisation: context.organisation(recipient.org),
        roles: recipient.roles ?? [],
        // Only an absent list means any role; a stored empty one matches none (decision-index.ts).
        anyRole: recipient.roles === undefined,
      })),
    purposes: (agreement: StoredAgreement) => agreement.document.purposes.map((p) => ({ code: p.code, description: p.description ?? null })),
    scope: (agreement: StoredAgreement) =>
      agreement.document.scope.map((entry) => ({ recordType: entry.recordType, fields: entry.fields, where: entry.where ?? null })),
    breakGlassRoles: (agreement: StoredAgreement) =>
      agreement.document.breakGlass?.allowed === true ? (agreement.document.breakGlass.roles ?? []) : [],
  },
};
