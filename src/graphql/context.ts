import type { Caller } from '../auth/caller.js';
import type { CallerDecisions } from '../agreements/index.js';
import type { EnforcementContext, RequestReleases } from '../enforcement/index.js';
import type { HubServices } from '../services.js';
import type { AuditEventInput, DecisionGenerations } from '../audit/index.js';
import type { GraphQLError } from 'graphql';
import type { RecordLoaders } from '../records/index.js';

/** Facts about the operation, filled in by the audit plugin once Apollo has parsed it. */
export interface OperationFacts {
  operationName: string | null;
  queryHash: string | null;
}

/** What execution leaves for the request path's audit step (src/http/pipeline/audit.ts). */
export interface ExecutionOutcome {
  /** Errors of the execution, as Apollo collected them. */
  errors: readonly GraphQLError[];
  /** The token id was claimed before execution (mutations: see the audit plugin). */
  claimed: boolean;
  /** The token id had been claimed before: the response must be 401 with nothing in it. */
  replayed: boolean;
  /**
   * A mutation found, when claiming its token, that organisations, keys or agreements changed
   * since it was authenticated: it wrote nothing and must be decided again under the new ones.
   */
  stale: boolean;
}

/**
 * The context of one GraphQL request. Built by the HTTP layer only after the caller's token has
 * verified, so every resolver can rely on `caller`.
 */
export interface RequestContext extends EnforcementContext {
  readonly requestId: string;
  readonly caller: Caller;
  /** The instant decisions are made for (one per request, so a request is judged consistently). */
  readonly now: Date;
  readonly services: HubServices;
  readonly decisions: CallerDecisions;
  readonly releases: RequestReleases;
  readonly operation: OperationFacts;
  /** Audit events other than releases (publish, agreement, admin), committed with the rest before the response leaves. */
  readonly events: AuditEventInput[];
  /** Batched record loaders of this request, already narrowed by `decisions`. */
  readonly loaders: RecordLoaders;
  /** The agreement and organisation generations `decisions` were made under, checked at commit. */
  readonly generations: DecisionGenerations;
  readonly outcome: ExecutionOutcome;
}
