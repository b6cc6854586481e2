export { hasRole, hubOrgId, isHubAdmin, type Caller } from './caller.js';
export { algorithmsForKey, defaultAlgorithmForKey, isSigningAlgorithm, signingAlgorithms, type SigningAlgorithm } from './signing-algorithms.js';
export { maxKeysPerSet, validatePublicJwks, type PublicJwk, type PublicJwks } from './validate-public-jwks.js';
export {
  activeKeys,
  getOrganisation,
  isOrganisationKind,
  listOrganisations,
  organisationIdPattern,
  organisationKinds,
  registerOrganisation,
  replaceOrganisationKeys,
  setOrganisationRateLimit,
  type Organisation,
  type OrganisationKey,
  type OrganisationKind,
  type RegisterOrganisationInput,
} from './organisations.js';
export { createOrganisationKeyStore, type KeyLookupOptions, type OrganisationKeyStore } from './key-store.js';
export { createDatabaseReplayGuard, tokenClaimOf, type DatabaseReplayGuardOptions, type ReplayGuard, type TokenIdClaim } from './replay-guard.js';
export {
  breakGlassMinReasonLength,
  clockSkewSeconds,
  tokenReplayedMessage,
  tokenMaxBytes,
  tokenMaxLifetimeSeconds,
  verifyToken,
  type VerifyTokenOptions,
} from './verify-token.js';
export { signCallerToken, type SignCallerTokenOptions } from './sign-token.js';
export { generatedKidPattern, generateSigningKey, writeKeyFiles, type KeyFiles, type SigningKey } from './generate-keys.js';
export { createOrganisationDirectory, type OrganisationDirectory, type OrganisationRateLimit, type OrganisationSummary } from './organisation-directory.js';
