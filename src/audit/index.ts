export {
  auditActions,
  auditOutcomes,
  toAuditEventBody,
  storedEventOfRow,
  recordsOfLegacyEvent,
  type AuditEventRow,
  type AuditRecordEntry,
  type LegacyRecordColumns,
  type AuditAction,
  type AuditOutcome,
  type AuditAgreementRef,
  type AuditJson,
  type AuditEventInput,
  type AuditEventBody,
  type StoredAuditEvent,
} from './audit-event.js';
export { GENESIS_HASH, hashEvent, canonicalEventJson, fastCanonicalEventJson, hashedObjectOf, type HashedAuditEvent } from './chain.js';
export {
  createAuditWriter,
  auditChainLockKey,
  type AuditWriter,
  type AuditWriterOptions,
  type DecisionGenerations,
  type RequestCommit,
  type RequestCommitResult,
  type TokenClaim,
} from './audit-writer.js';
export { deriveQueryHashKey, keyedQueryHash, keyedQueryHashPrefix, queryHashKeyInfo, queryHashKind } from './query-hash.js';
export { loadHubSigningKey, rotateHubKey, hubJwks, hubKeyFileName, type HubSigningKey, type LoadHubSigningKeyOptions } from './hub-keys.js';
export {
  createCheckpointer,
  listCheckpoints,
  lastCheckpoint,
  checkpointPayload,
  checkpointJwsType,
  type AuditCheckpoint,
  type Checkpointer,
  type CheckpointerOptions,
} from './checkpoints.js';
export {
  verifyChain,
  createIncrementalVerifier,
  type IncrementalVerifier,
  type VerifyChainOptions,
  type VerifyChainResult,
  type VerifyProgress,
  type ChainProblem,
  type ChainProblemKind,
} from './verify-chain.js';
export {
  queryAuditEvents,
  subjectAccessReport,
  auditIntegrity,
  auditCursor,
  defaultAuditPageSize,
  maxAuditPageSize,
  type AuditScope,
  type AuditFilter,
  type AuditEventPage,
  type AuditIntegrity,
} from './read-audit.js';
export {
  exportAuditEvents,
  toFhirAuditEvent,
  auditExportFormats,
  fhirSystems,
  type AuditExportFormat,
  type ExportAuditOptions,
} from './export.js';
export {
  disclosureEvents,
  writeEvents,
  type RequestActor,
  type DisclosedRecord,
  type DeniedRecordType,
  type WrittenRecord,
} from './disclosure-events.js';
