export * from './agreement-document.js';
export { canonicalJson, canonicalBytes, payloadHash } from './canonical.js';
export { validateAgreement, type ValidateAgreementOptions } from './validate-agreement.js';
export { validateWhere, whereFieldKind, maxWhereDepth } from './validate-where.js';
export { decodeEnvelope, signaturesOf, type AgreementEnvelope, type EnvelopeSignatureEntry, type DecodedEnvelope } from './agreement-envelope.js';
export type { KeyLookup, PublicKeyMaterial } from './key-lookup.js';
export { importPrivateSigningKey, type PrivateSigningKey } from './import-private-signing-key.js';
export { signAgreement, type SignAgreementOptions } from './sign-agreement.js';
export { verifyEnvelope, type VerifiedEnvelope, type VerifyEnvelopeOptions } from './verify-envelope.js';
export type { VerifiedSignature } from './verify-signature-entry.js';
export {
  signRevocation,
  verifyRevocation,
  revocationType,
  type RevocationClaims,
  type VerifiedRevocation,
  type SignRevocationOptions,
} from './revocation.js';
export {
  agreementStatus,
  agreementStatuses,
  isAgreementStatus,
  isInForce,
  statusesOfVersions,
  type AgreementStatus,
  type StatusInputs,
} from './agreement-status.js';
export { findEmptyRoleLists, type EmptyRoleList } from './find-empty-role-lists.js';
export { createAgreementStore, type AgreementStore, type AgreementStoreOptions, type StoredAgreement, type WrittenAgreement } from './agreement-store.js';
export { compileWhere, subjectAgeSql, subjectAgeYears, type CompiledWhere, type RecordTable } from './where.js';
export {
  buildDecisionIndex,
  createDecisionIndex,
  type CallerDecisions,
  type DecisionCaller,
  type DecisionIndex,
  type DecisionSnapshot,
  type IndexableAgreement,
  type RecordDecision,
} from './decision-index.js';
