import type { RequestActor } from '../../audit/index.js';
import type { RequestContext } from '../context.js';

/** The actor and request columns every audit event of this request carries. */
export function actorOf(context: RequestContext): RequestActor {
  const { caller } = context;
  return {
    at: context.now,
    requestId: context.requestId,
    actorOrg: caller.org,
    actorUser: caller.sub,
    actorRoles: caller.roles,
    purpose: caller.purpose,
    caseRef: caller.caseRef ?? null,
    operationName: context.operation.operationName,
    queryHash: context.operation.queryHash,
  };
}
