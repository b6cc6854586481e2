import type { RequestContext } from '../context.js';

/** `me` and `organisations`: facts about the caller and the partnership, no record data. */
export const callerResolvers = {
  Query: {
    me: (_: unknown, __: unknown, context: RequestContext) => ({ caller: context.caller }),
    organisations: async (_: unknown, __: unknown, context: RequestContext) => context.services.organisations.list(),
  },
  Caller: {
    organisation: (me: { caller: RequestContext['caller'] }, _: unknown, context: RequestContext) =>
      context.organisation(me.caller.org),
    subject: (me: { caller: RequestContext['caller'] }) => me.caller.sub,
    roles: (me: { caller: RequestContext['caller'] }) => me.caller.roles,
    purpose: (me: { caller: RequestContext['caller'] }) => me.caller.purpose,
    caseRef: (me: { caller: RequestContext['caller'] }) => me.caller.caseRef ?? null,
    breakGlass: (me: { caller: RequestContext['caller'] }) => me.caller.breakGlass !== undefined,
    tokenExpiresAt: (me: { caller: RequestContext['caller'] }) => me.caller.expiresAt,
  },
};
