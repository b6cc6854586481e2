import { subjectAgeSql } from '../agreements/index.js';
import type { Caller } from '../auth/caller.js';
import { RequestReleases } from '../enforcement/index.js';
import { createRecordLoaders, recordTypes } from '../records/index.js';
import type { HubServices } from '../services.js';
import type { RequestContext } from './context.js';

/**
 * Builds the context of one request for a verified caller: the decision index is brought up to
 * date (one small query; changes made by any hub instance take effect here), the caller's
 * decisions are compiled once, and the record loaders are narrowed by them.
 */
export async function createRequestContext(services: HubServices, caller: Caller, requestId: string): Promise<RequestContext> {
  const now = services.clock();
  await services.decisionIndex.refresh();
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
    organisation: async (id: string) => (await services.organisations.get(id)) ?? { id, name: id, kind: 'OTHER' },
  };
}
