import type { Logger } from 'pino';
import type { AgreementStore, DecisionIndex } from './agreements/index.js';
import type { AuditWriter, Checkpointer, HubSigningKey, IncrementalVerifier } from './audit/index.js';
import type { OrganisationDirectory, OrganisationKeyStore, ReplayGuard } from './auth/index.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database, Db } from './db/index.js';
import type { Metrics } from './http/metrics.js';
import type { RateLimiter } from './http/rate-limiter.js';

/** Everything long-lived that one hub instance runs on, built once by createApp. */
export interface HubServices {
  readonly config: Config;
  readonly clock: Clock;
  readonly database: Database;
  readonly db: Db;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly keys: OrganisationKeyStore;
  readonly organisations: OrganisationDirectory;
  readonly replay: ReplayGuard;
  readonly rateLimiter: RateLimiter;
  readonly agreements: AgreementStore;
  readonly decisionIndex: DecisionIndex;
  readonly audit: AuditWriter;
  readonly checkpointer: Checkpointer;
  readonly hubKey: HubSigningKey;
  /** Recomputes the chain incrementally (in the background, and for `auditIntegrity`). */
  readonly verifier: IncrementalVerifier;
}
