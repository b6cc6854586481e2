export { enforceRecordFields, isEnforcedResolver, notSharedError, type EnforcementContext } from './enforce-record-fields.js';
export { releaseRecord, isReleasedRecord, type AgreementCitation, type RecordDecision, type RecordRow, type ReleasedRecord } from './record-decision.js';
export { RequestReleases, type DenialEntry, type ReleaseEntry } from './request-releases.js';
