import { subjectAgeSql } from '../agreements/index.js';
import type { Caller } from '../auth/caller.js';
import { RequestReleases } from '../enforcement/index.js';
import { createRecordLoaders, recordTypes } from '../records/index.js';
import type { HubServices } from '../services.js';
import type { RequestContext } from './context.js';

/**
 * Builds the context of one request for a verified caller: the caller's decisions are compiled
 * once from the decision index as this instance has it, and the record loaders are narrowed by
 * them. No round trip: the generations the index and the key store were loaded at are checked
 * when the request commits (src/audit/audit-writer.ts), and a request decided under agreements
 * or keys that changed meanwhile on any instance is decided again (src/http/pipeline/).
 */
export async function createRequestContext(services: HubServices, caller: Caller, requestId: string, keysGeneration: number): Promise<RequestContext> {
  const now = services.clock();
  if (services.decisionIndex.generation === undefined) await services.decisionIndex.refresh();
  // `keysGeneration`: the key store's generation when the caller's token was verified.
  const generations = { agreements: services.decisionIndex.generation ?? 0, organisations: keysGeneration };
  const decisions = services.decisionIndex.forCaller(caller, now);
  const loaders = createRecordLoaders(services.db, {
    filter: (type) => decisions.visibilitySql(type, recordTypes[type].table),
    subjectAge: (type) => (decisions.needsSubjectAge(type) ? subjectAgeSql(recordTypes[type].table, now) : undefined),
  });
  return {
    requestId,
    caller,
    now,
    services,
    decisions,
    loaders,
    releases: new RequestReleases(),
    operation: { operationName: null, queryHash: null },
    events: [],
    generations,
    outcome: { errors: [], claimed: false, replayed: false, stale: false },
    organisation: async (id: string) => (await services.organisations.get(id)) ?? { id, name: id, kind: 'OTHER' },
  };
}
