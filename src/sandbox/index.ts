export {
  demoOrganisationIds,
  demoOrganisations,
  demoPartnership,
  demoPeopleCount,
  isDemoOrganisation,
  type DemoAgreement,
  type DemoAgreementFate,
  type DemoOrganisation,
  type DemoPartnership,
  type DemoPerson,
  type DemoRecordSet,
} from './demo-partnership.js';
export { demoKeysDir, readDemoKey, readDemoSeedRecord, removeDemoKeys, type DemoSeedRecord } from './demo-keys.js';
export { emptyDatabase, removeEmbeddedDatabase, seedDemo, type SeedDemoOptions, type SeedDemoResult } from './seed-demo.js';
export { mintPersonaToken, parsePersonaRequest, personaTokenTtlSeconds, type MintPersonaTokenOptions, type PersonaRequest } from './mint-persona-token.js';
export {
  createSandboxRoutes,
  negotiateEncoding,
  personaBodyMaxBytes,
  sandboxContentSecurityPolicy,
  sandboxPath,
  sandboxTokenPath,
  type SandboxRoutes,
  type SandboxRoutesOptions,
} from './sandbox-routes.js';
export { buildSandboxAssets, describeSizes, ensureSandboxAssets, readSandboxManifest, sandboxAssetsDir, type SandboxManifest } from './sandbox-assets.js';
export type { ExampleOperation, Persona, PersonaPreset, SandboxConfig } from './client/sandbox-config.js';
